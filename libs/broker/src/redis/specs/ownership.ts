import type { ScriptArg } from '../scripts.js';
import { list, num, spec, text, where, type OwnedPartitionRef, type PartitionRef } from '../script-spec.js';
import { statusOf } from '../script-status.js';

export interface AcquireLeaseInput extends OwnedPartitionRef {
  memberId: string;
  leaseMs: number;
  startId: '0' | '$';
}

export type AcquireLeaseReply =
  | { status: 'ok'; lastDeliveredSeq: number; logEnd: number }
  | { status: 'held'; msUntilExpiry: number; holder: string }
  | { status: 'gone' };

export const acquireLease = spec<AcquireLeaseInput, AcquireLeaseReply>({
  name: 'acquire-lease',
  keys: (keys, { topic, partition, group }) => [
    keys.lease(topic, partition, group), keys.log(topic, partition), keys.delayQueue(topic, partition, group), keys.delayTaken(topic, partition, group),
  ],
  args: (input) => [input.token, input.memberId, input.leaseMs, input.group, input.startId],
  parse: (reply) => {
    const r = list(reply);
    const status = statusOf(r);
    if (status === 'ok') return { status, lastDeliveredSeq: num(r[1]), logEnd: num(r[2]) };
    if (status === 'held') return { status, msUntilExpiry: num(r[1]), holder: text(r[2]) };
    return { status: 'gone' };
  },
  describe: (input) => `acquire ${where(input)} for group '${input.group}'`,
});

export interface RenewLeasesInput {
  group: string;
  leaseMs: number;
  partitions: ReadonlyArray<PartitionRef & { token: string }>;
}

export const renewLeases = spec<RenewLeasesInput, Array<{ renewed: boolean; msUntilNextDue: number }>>({
  name: 'renew-leases',
  keys: (keys, { group, partitions }) => partitions.flatMap(({ topic, partition }) => [keys.lease(topic, partition, group), keys.delayQueue(topic, partition, group)]),
  args: (input) => [input.leaseMs, ...input.partitions.map((p) => p.token)],
  parse: (reply) => {
    const flat = list(reply).map(num);
    const out: Array<{ renewed: boolean; msUntilNextDue: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ renewed: flat[i] === 1, msUntilNextDue: flat[i + 1] === -1 ? Infinity : flat[i + 1] });
    return out;
  },
  describe: (input) => `renew the leases of group '${input.group}'`,
});

export const releaseLease = spec<OwnedPartitionRef, { status: 'ok' | 'stale' }>({
  name: 'release-lease',
  keys: (keys, { topic, partition, group }) => [
    keys.lease(topic, partition, group), keys.log(topic, partition), keys.delayQueue(topic, partition, group), keys.delayTaken(topic, partition, group),
  ],
  args: (input) => [input.token, input.group],
  parse: (reply) => ({ status: statusOf(reply) === 'ok' ? 'ok' : 'stale' }),
  describe: (input) => `release ${where(input)}`,
});

export interface ResetOffsetInput extends PartitionRef {
  group: string;
  offset: number;
  /** The seeking worker's token, or '' for an admin reset. */
  token: string;
  force: boolean;
}

export const resetOffset = spec<ResetOffsetInput, { status: 'ok' | 'held' | 'fenced' | 'gone' }>({
  name: 'reset-offset',
  keys: (keys, { topic, partition, group }) => [keys.log(topic, partition), keys.lease(topic, partition, group)],
  args: (input) => [input.group, input.offset, input.token, input.force ? '1' : '0'],
  parse: (reply) => ({ status: statusOf(reply) as 'ok' | 'held' | 'fenced' | 'gone' }),
  describe: (input) => `move group '${input.group}' on ${where(input)}`,
});

export interface MembershipInput {
  group: string;
  op: 'join' | 'leave';
  memberId: string;
  sessionMs: number;
  /** JSON { clientId, topics } of the member (join only). */
  info?: string;
  /** The topics the member consumes as it sees them (join only). */
  topics?: ReadonlyArray<{ topic: string; partitions: number; createdAt: number }>;
}

export interface MembershipReply {
  generation: number;
  /** Partition keys `topic:partition` assigned to the member. */
  owned: string[];
  /** Partition count of each topic when the group first subscribed to it. */
  origins: Map<string, number>;
  /** Until the next other member's session expires, or -1. */
  msUntilNextExpiry: number;
  members: number;
}

/** Heartbeats a member into its group (or removes it) and recomputes the assignment when needed. */
export const membership = spec<MembershipInput, MembershipReply>({
  name: 'membership',
  keys: (keys, { group }) => keys.membershipKeys(group),
  args: (input) => [
    input.op, input.memberId, input.sessionMs, input.info ?? '',
    ...(input.topics ?? []).flatMap(({ topic, partitions, createdAt }) => [topic, partitions, createdAt]),
  ],
  parse: (reply) => {
    const [generation, owned, origins, next, members] = list(reply);
    const originMap = new Map<string, number>();
    const flat = list(origins);
    for (let i = 0; i + 1 < flat.length; i += 2) originMap.set(text(flat[i]), num(flat[i + 1]));
    const parsed: unknown = JSON.parse(text(owned));
    return {
      generation: num(generation),
      owned: Array.isArray(parsed) ? (parsed as string[]) : [],
      origins: originMap,
      msUntilNextExpiry: num(next),
      members: num(members),
    };
  },
  describe: (input) => (input.op === 'join' ? `heartbeat in group '${input.group}'` : `leave group '${input.group}'`),
});

/** Records a group and the topics it consumes, for listGroups. */
export type GroupKind = 'exclusive' | 'share';

export const registerGroup = spec<{ group: string; kind: GroupKind; topics: readonly string[] }, { status: 'ok'; changed: boolean } | { status: 'kind'; existing: GroupKind }>({
  name: 'register-group',
  keys: (keys) => [keys.groups()],
  args: (input) => [input.group, input.kind, ...input.topics],
  parse: (reply) => {
    const r = list(reply);
    if (statusOf(r) === 'kind') return { status: 'kind', existing: text(r[1]) === 'share' ? 'share' : 'exclusive' };
    return { status: 'ok', changed: num(r[1]) === 1 };
  },
  describe: (input) => `register group '${input.group}'`,
});
