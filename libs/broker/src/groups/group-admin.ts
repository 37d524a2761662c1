import type { BrookContext } from '../client/context.js';
import { GroupActiveError, InvalidArgumentError, UnknownGroupError, UnknownTopicError } from '../errors/errors.js';
import { assertValidName } from '../names/names.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { GroupKind } from '../redis/specs/ownership.js';

export type { GroupKind };
import type { GroupOffsetsReply } from '../redis/specs/admin.js';
import { range } from '../topics/topic-admin.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import { memberOfToken } from '../consumer/lease-token.js';
import { parsePartitionKey } from '../consumer/topic-partition.js';
import { offsetForTimestamp } from '../message/offset-for-timestamp.js';
import type { AuditLog } from '../dead-letters/audit-log.js';
import { deleteGroup, type DeleteGroupRequest, type DeleteGroupResult } from './group-deletion.js';
import { LagHistory, type LagHistoryRequest, type LagSample } from './lag-history.js';

/** A group as `listGroups` reports it. */
export interface GroupListing {
  group: string;
  /** An exclusive consumer group (partitions owned by one member each) or a share group (records acquired one by one). */
  kind: GroupKind;
  /** Topics the group has consumed. */
  topics: string[];
  /** Live members right now. */
  members: number;
  /** With `listGroups({ lag: true })`: unfinished messages over every topic and partition; null before the group read any. */
  lag?: number | null;
  /** With `listGroups({ lag: true })`: the largest lag in seconds over its partitions; null before the group read any. */
  lagSeconds?: number | null;
}

/** A live member and the partitions of the described topic assigned to it. */
export interface MemberDescription {
  memberId: string;
  clientId: string;
  /** Partitions it owns (exclusive group), or on which it holds acquired records (share group). */
  partitions: number[];
  /** Share groups: records it holds acquired now. */
  acquired?: number;
}

/** One partition of a topic, from one group's point of view. */
export interface GroupPartitionDescription {
  partition: number;
  /** Member holding the partition's lease, or null. */
  owner: string | null;
  /**
   * Where the group resumes: the oldest message not yet processed (its pending messages count as
   * not processed). Null before the group first read the partition.
   */
  committedOffset: number | null;
  /** Log end offset. */
  highOffset: number;
  /** Log start offset. */
  lowOffset: number;
  /** Messages the group has not finished: not yet read, read but unacknowledged, or waiting for a retry. Null before the group first read the partition. */
  lag: number | null;
  /**
   * How far behind the group is in time: the age, in seconds on the Redis clock, of its oldest
   * unfinished message (from the time Brook appended it, or its producer's explicit timestamp).
   * 0 when it finished everything; null before the group first read the partition.
   */
  lagSeconds: number | null;
  /** Read but not yet acknowledged (in flight, or being retried in place). */
  pending: number;
  /** Waiting in the group's delay queue for a later attempt. */
  retrying: number;
  /** In the group's dead-letter topic for this partition. */
  deadLettered: number;
  /** Running totals of the group on this partition since it started. */
  counters: GroupCounters;
}

/** Running totals a group keeps per partition. */
export interface GroupCounters {
  /** Messages whose handler succeeded. */
  processed: number;
  /** Failed handler attempts. */
  failed: number;
  /** Retries scheduled after a failure. */
  retried: number;
  /** Messages moved to the dead-letter topic. */
  deadLettered: number;
  /** Messages removed by retention before the group read them. */
  skipped: number;
  /**
   * Times a member found the partition's log end below what it had read: Redis lost writes (a
   * restart from an older snapshot, a failover to a lagging replica) and handed offsets out again.
   */
  rollbacks: number;
}

/** What `describeGroup` returns. */
export interface GroupDescription {
  group: string;
  kind: GroupKind;
  topic: string;
  members: MemberDescription[];
  partitions: GroupPartitionDescription[];
}

/** Where `resetOffsets` moves a group. */
export type ResetTarget = 'earliest' | 'latest' | { offset: number } | { timestamp: number };

/** What `resetOffsets` takes. */
export interface ResetOffsetsRequest {
  group: string;
  topic: string;
  to: ResetTarget;
  /** Reset even while members are live (they continue from the new position). @defaultValue `false` */
  force?: boolean;
}

/** Group operations of the admin client. */
export class GroupAdmin {
  private readonly history: LagHistory;

  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
    private readonly auditLog: AuditLog,
  ) {
    this.history = new LagHistory(ctx);
  }

  /**
   * Every group that ever ran, with its topics and live member count, sorted by name; with
   * `{ lag: true }` also its total lag and lag in seconds over those topics (one `describeGroup`
   * per group and topic).
   */
  async listGroups(options: { lag?: boolean } = {}): Promise<GroupListing[]> {
    const listings = await this.listGroupsOnly();
    if (options?.lag !== true) return listings;
    return Promise.all(listings.map(async (listing) => ({ ...listing, ...summarizeLag(await this.describeTopics(listing)) })));
  }

  /** Removes a group and every key of it; refused while members are live unless `force`. Audited. */
  deleteGroup(request: DeleteGroupRequest): Promise<DeleteGroupResult> {
    return deleteGroup(this.ctx, this.registry, this.auditLog, request);
  }

  /** A group's lag on a topic over time, as the maintenance controller sampled it. */
  lagHistory(request: LagHistoryRequest): Promise<LagSample[]> {
    return this.history.read(request);
  }

  /**
   * Samples the lag of every group on every topic it consumes into the lag history. The
   * maintenance controller calls it on its schedule; resolves with the number of samples written.
   */
  async recordLagHistory(): Promise<number> {
    let written = 0;
    for (const listing of await this.listGroupsOnly()) {
      for (const topic of listing.topics) {
        const described = await this.describeGroupAt({ group: listing.group, topic }).catch(skipGone);
        if (described === undefined) continue;
        await this.history.record(described.description, described.nowMs);
        written++;
      }
    }
    return written;
  }

  private async describeTopics(listing: GroupListing): Promise<GroupDescription[]> {
    const described = await Promise.all(listing.topics.map((topic) => this.describeGroup({ group: listing.group, topic }).catch(skipGone)));
    return described.filter((description) => description !== undefined);
  }

  private async listGroupsOnly(): Promise<GroupListing[]> {
    await this.ctx.ready();
    const groups = await readGroupRegistry(this.ctx);
    const now = await this.redisNow();
    const kinds = await readGroupKinds(this.ctx);
    const listings = await Promise.all(
      [...groups].map(async ([group, topics]) => {
        const kind = kinds.get(group) ?? 'exclusive';
        const members = await this.ctx.run(`count members of '${group}'`, () => this.ctx.client.zcount(this.ctx.keys.groupMembers(group), `(${now}`, '+inf'));
        return { group, kind, topics, members };
      }),
    );
    return listings.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  }

  /** Members, assignment, committed offsets, lag, pending and retrying messages per partition of one topic. */
  async describeGroup({ group, topic }: { group: string; topic: string }): Promise<GroupDescription> {
    return (await this.describeGroupAt({ group, topic })).description;
  }

  /** `describeGroup`, with the Redis clock (ms) at which it was read. */
  async describeGroupAt({ group, topic }: { group: string; topic: string }): Promise<{ description: GroupDescription; nowMs: number }> {
    const partitions = await this.requireGroupTopic(group, topic);
    const kind = (await readGroupKinds(this.ctx)).get(group) ?? 'exclusive';
    const [members, offsets] = await Promise.all([
      kind === 'share' ? this.shareMembers(group, topic) : this.liveMembers(group, topic),
      Promise.all(range(partitions).map((p) => this.partitionOffsets(group, topic, p))),
    ]);
    const nowMs = Math.max(0, ...offsets.map((reply) => reply.nowMs));
    const description: GroupDescription = {
      group,
      kind,
      topic,
      members,
      partitions: offsets.map((reply, partition) => {
        const { state, highOffset: high, lowOffset: low, lastDeliveredSeq: lastDelivered, pending, minPendingSeq: minPending, owner, retrying, deadLettered, stats } = reply;
        const counter = (name: keyof GroupCounters) => stats.get(name) ?? 0;
        const positioned = state === 1;
        const committedOffset = !positioned ? null : pending > 0 ? minPending - 1 : lastDelivered;
        const undelivered = Math.max(0, high - Math.max(lastDelivered, low));
        const behind = reply.oldestOffset >= 0 && reply.oldestAppendMs >= 0;
        return {
          partition,
          owner: owner === '' ? null : memberOfToken(owner),
          committedOffset,
          highOffset: high,
          lowOffset: low,
          lag: positioned ? undelivered + pending + retrying : null,
          lagSeconds: !positioned ? null : behind ? Math.max(0, reply.nowMs - reply.oldestAppendMs) / 1_000 : 0,
          pending,
          retrying,
          deadLettered,
          counters: {
            processed: counter('processed'),
            failed: counter('failed'),
            retried: counter('retried'),
            deadLettered: counter('deadLettered'),
            skipped: counter('skipped'),
            rollbacks: counter('rollbacks'),
          },
        };
      }),
    };
    return { description, nowMs };
  }

  /**
   * Moves a group's position on every partition of a topic. Refused while the group has live
   * members unless `force`; pending messages are forgotten, retries and dead letters stay.
   * Resolves with the new position of each partition.
   */
  async resetOffsets(request: ResetOffsetsRequest): Promise<Array<{ partition: number; offset: number }>> {
    if (request === null || typeof request !== 'object') throw new InvalidArgumentError("resetOffsets needs { group, topic, to: 'earliest' | 'latest' | { offset } | { timestamp } }.");
    const { group, topic, to, force = false } = request;
    const partitions = await this.requireGroupTopic(group, topic);
    validateTarget(to);
    const live = await this.liveMembers(group);
    if (live.length > 0 && !force) throw new GroupActiveError(group, live.length, `reset its offsets on '${topic}'`);

    return Promise.all(
      range(partitions).map(async (partition) => {
        const { highOffset: high, lowOffset: low } = await this.partitionOffsets(group, topic, partition);
        const offset =
          to === 'earliest' ? low : to === 'latest' ? high : 'offset' in to ? Math.min(Math.max(to.offset, low), high) : await offsetForTimestamp(this.ctx, topic, partition, to.timestamp, low, high);
        const { status } = await this.ctx.call(SCRIPTS.resetOffset, { topic, partition, group, offset, token: '', force });
        if (status === 'held') throw new GroupActiveError(group, 1, `reset its offsets on '${topic}' (a member still holds partition ${partition})`);
        if (status === 'gone') throw new UnknownTopicError(topic);
        return { partition, offset };
      }),
    );
  }

  private requireGroupTopic(group: string, topic: string): Promise<number> {
    return requireGroupTopic(this.ctx, this.registry, group, topic);
  }

  private partitionOffsets(group: string, topic: string, partition: number): Promise<GroupOffsetsReply> {
    return this.ctx.call(SCRIPTS.groupOffsets, { topic, partition, group });
  }

  private async liveMembers(group: string, topic?: string): Promise<MemberDescription[]> {
    const now = await this.redisNow();
    const { keys, client } = this.ctx;
    const ids = await this.ctx.run(`list members of '${group}'`, () => client.zrangebyscore(keys.groupMembers(group), `(${now}`, '+inf'));
    if (ids.length === 0) return [];
    const [infos, owned] = await this.ctx.run(`describe members of '${group}'`, () =>
      Promise.all([client.hmget(keys.groupMemberInfo(group), ...ids), client.hmget(keys.groupAssignment(group), ...ids)]),
    );
    return ids
      .map((memberId, i) => {
        const list = owned[i] ? (JSON.parse(owned[i]!) as string[]) : [];
        return {
          memberId,
          clientId: infos[i] ? (JSON.parse(infos[i]!) as { clientId: string }).clientId : 'unknown',
          partitions: list
            .map(parsePartitionKey)
            .filter((tp) => topic === undefined || tp.topic === topic)
            .map((tp) => tp.partition)
            .sort((a, b) => a - b),
        };
      })
      .sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  }

  /**
   * The live members of a share group (those that announced themselves within the last 10 s), with
   * the records each holds on the topic's partitions (its part of the pending lists).
   */
  private async shareMembers(group: string, topic: string): Promise<MemberDescription[]> {
    const live = await this.liveMembers(group, topic);
    const config = await this.registry.get(topic);
    if (config === undefined || live.length === 0) return live;
    const byId = new Map(live.map((member) => [member.memberId, { ...member, partitions: [] as number[], acquired: 0 }]));
    await Promise.all(
      range(config.partitions).map(async (partition) => {
        const consumers = await this.ctx
          .run(`list members of share group '${group}'`, () => this.ctx.client.xinfo('CONSUMERS', this.ctx.keys.log(topic, partition), group) as Promise<unknown[]>)
          .catch(() => [] as unknown[]);
        for (const consumer of consumers as unknown[][]) {
          const fields = new Map<string, unknown>();
          for (let i = 0; i + 1 < consumer.length; i += 2) fields.set(String(consumer[i]), consumer[i + 1]);
          const member = byId.get(String(fields.get('name')));
          const pending = Number(fields.get('pending') ?? 0);
          if (member === undefined || pending === 0) continue;
          member.partitions.push(partition);
          member.acquired += pending;
        }
      }),
    );
    return [...byId.values()].map((member) => ({ ...member, partitions: member.partitions.sort((a, b) => a - b) }));
  }

  /** Milliseconds on the Redis clock, which member deadlines use. */
  private async redisNow(): Promise<number> {
    const [seconds, micros] = await this.ctx.run('read the Redis clock', () => this.ctx.client.time());
    return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
  }
}

/** The topic's partition count, after checking the group exists and has consumed the topic. */
export async function requireGroupTopic(ctx: BrookContext, registry: TopicRegistry, group: string, topic: string): Promise<number> {
  assertValidName('group', group);
  assertValidName('topic', topic);
  await ctx.ready();
  const config = await registry.get(topic, { fresh: true });
  if (config === undefined) throw new UnknownTopicError(topic);
  const topics = (await readGroupRegistry(ctx)).get(group);
  if (topics === undefined) throw new UnknownGroupError(group);
  if (!topics.includes(topic)) throw new UnknownGroupError(group, topic);
  return config.partitions;
}

/** Every group that ever ran, with the topics it consumed. */
/** Each registered group's kind. */
export async function readGroupKinds(ctx: BrookContext): Promise<Map<string, GroupKind>> {
  const all = await ctx.run('read the group registry', () => ctx.client.hgetall(ctx.keys.groups()));
  return new Map(Object.entries(all).map(([group, json]) => [group, (JSON.parse(json) as { kind?: GroupKind }).kind ?? 'exclusive']));
}

export async function readGroupRegistry(ctx: BrookContext): Promise<Map<string, string[]>> {
  const all = await ctx.run('read the group registry', () => ctx.client.hgetall(ctx.keys.groups()));
  return new Map(Object.entries(all).map(([group, json]) => [group, (JSON.parse(json) as { topics: string[] }).topics]));
}

/** Total lag and the largest lag in seconds over the described topics. */
function summarizeLag(descriptions: GroupDescription[]): { lag: number | null; lagSeconds: number | null } {
  const positioned = descriptions.flatMap((description) => description.partitions).filter((p) => p.lag !== null);
  if (positioned.length === 0) return { lag: null, lagSeconds: null };
  return { lag: positioned.reduce((sum, p) => sum + p.lag!, 0), lagSeconds: Math.max(...positioned.map((p) => p.lagSeconds ?? 0)) };
}

/** A topic deleted since the group read it is no longer part of the group's picture. */
function skipGone(error: unknown): undefined {
  if (error instanceof UnknownTopicError || error instanceof UnknownGroupError) return undefined;
  throw error;
}

function validateTarget(to: unknown): asserts to is ResetTarget {
  if (to === 'earliest' || to === 'latest') return;
  if (to !== null && typeof to === 'object') {
    const target = to as Record<string, unknown>;
    if ('offset' in target && Number.isSafeInteger(target.offset) && (target.offset as number) >= 0) return;
    if ('timestamp' in target && Number.isSafeInteger(target.timestamp) && (target.timestamp as number) >= 0) return;
  }
  throw new InvalidArgumentError(
    `Invalid reset target ${JSON.stringify(to)}: use 'earliest', 'latest', { offset: <non-negative integer> } or { timestamp: <ms since epoch> }.`,
  );
}
