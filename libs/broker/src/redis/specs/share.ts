import type { ScriptArg } from '../scripts.js';
import { failureList, list, num, spec, texts, where, type PartitionRef } from '../script-spec.js';
import { statusOf } from '../script-status.js';

/** A share-group member on one partition. */
export interface SharePartitionRef extends PartitionRef {
  group: string;
  member: string;
}

export interface ShareFetchInput extends SharePartitionRef {
  count: number;
  maxBytes: number;
  lockMs: number;
  averageBytes: number;
  startId: '0' | '$';
}

export type ShareFetchReply = { status: 'ok'; packed: Buffer; deliveries: number[]; failures: Array<Buffer | null> } | { status: 'gone' };

/** Acquires records of a partition for a share-group member (see share-fetch.lua). */
export const shareFetch = spec<ShareFetchInput, ShareFetchReply>({
  name: 'share-fetch',
  buffers: true,
  keys: (keys, { topic, partition, group }) => [keys.log(topic, partition), keys.attempts(topic, partition, group)],
  args: (input) => [input.group, input.member, input.count, input.maxBytes, input.lockMs, input.averageBytes, input.startId],
  parse: (reply) => {
    const r = list(reply);
    if (statusOf(r) !== 'ok') return { status: 'gone' };
    return { status: 'ok', packed: r[1] as Buffer, deliveries: list(r[2]).map(num), failures: failureList(r[3]) };
  },
  describe: (input) => `acquire records of ${where(input)} for share group '${input.group}'`,
});

/** A record a member holds: its stream ID, the delivery it got it from, its message id. */
export interface HeldRecord {
  id: string;
  delivery: number;
  messageId: string;
}

export interface ShareSettleInput extends SharePartitionRef {
  action: 'ack' | 'renew' | 'release';
  lockMs: number;
  /** For 'release': until another delivery. */
  delayMs?: number;
  /** For 'release' after a failure: JSON { name, message } recorded with the record. */
  error?: string;
  records: readonly HeldRecord[];
}

/** Acknowledges, renews or releases records a share-group member holds (see share-settle.lua). */
export const shareSettle = spec<ShareSettleInput, { status: 'ok'; settled: number; stale: string[] }>({
  name: 'share-settle',
  keys: (keys, { topic, partition, group }) => [keys.log(topic, partition), keys.attempts(topic, partition, group), keys.stats(topic, partition, group)],
  args: (input) => {
    const args: ScriptArg[] = [input.group, input.member, input.action, input.lockMs, input.delayMs ?? 0, input.error ?? ''];
    for (const record of input.records) args.push(record.id, record.delivery, record.messageId);
    return args;
  },
  parse: (reply) => {
    const r = list(reply);
    return { status: 'ok', settled: num(r[1]), stale: texts(r[2]) };
  },
  describe: (input) => `${input.action === 'ack' ? 'acknowledge' : input.action} records of ${where(input)} for share group '${input.group}'`,
});

export interface ShareMemberInput {
  group: string;
  member: string;
  action: 'beat' | 'leave';
  ttlMs: number;
  lockMs: number;
  clientId: string;
}

/** Announces a share-group member, or removes it (see share-member.lua). */
export const shareMember = spec<ShareMemberInput, { status: 'ok' } | { status: 'conflict'; lockMs: number }>({
  name: 'share-member',
  keys: (keys, { group }) => [keys.groupMembers(group), keys.groupMemberInfo(group), keys.groupShareLock(group)],
  args: (input) => [input.action, input.member, input.ttlMs, input.lockMs, JSON.stringify({ clientId: input.clientId })],
  parse: (reply) => {
    const r = list(reply);
    return statusOf(r) === 'conflict' ? { status: 'conflict', lockMs: num(r[1]) } : { status: 'ok' };
  },
  describe: (input) => `${input.action === 'beat' ? 'announce' : 'remove'} member of share group '${input.group}'`,
});

/** Deletes a stopping member's Redis consumer of a partition when it holds nothing there (see share-leave.lua). */
export const shareLeave = spec<SharePartitionRef, boolean>({
  name: 'share-leave',
  keys: (keys, { topic, partition }) => [keys.log(topic, partition)],
  args: (input) => [input.group, input.member],
  parse: (reply) => num(reply) === 1,
  describe: (input) => `leave ${where(input)} for share group '${input.group}'`,
});
