import { diagnosticValue, errorTag, reasonTag } from '../../dead-letters/dead-letter-tags.js';
import type { ScriptArg } from '../scripts.js';
import { failureList, list, num, spec, text, texts, where, type OwnedPartitionRef } from '../script-spec.js';
import { statusOf } from '../script-status.js';

/** Where a message being processed came from: the log's pending list, or the group's delay queue. */
export type MessageSource = 'log' | 'delay';

const seqOfId = (id: string) => Number(id.slice(id.indexOf('-') + 1));

export interface FetchInput {
  group: string;
  maxBytes: number;
  partitions: ReadonlyArray<{
    topic: string;
    partition: number;
    token: string;
    count: number;
    after: string;
    maxBytes: number;
    averageBytes: number;
    /** A read of this worker failed or timed out: return what it may have delivered without the worker receiving it. */
    recheck: boolean;
  }>;
}

export type FetchReply = { status: 'ok'; packed: Buffer } | { status: 'fenced' | 'gone' };

/** Reads new messages of one or more owned partitions within byte budgets (see fetch.lua). */
export const fetch = spec<FetchInput, FetchReply[]>({
  name: 'fetch',
  buffers: true,
  keys: (keys, { group, partitions }) => partitions.flatMap(({ topic, partition }) => [keys.log(topic, partition), keys.lease(topic, partition, group)]),
  args: (input) => {
    const args: ScriptArg[] = [input.group, input.maxBytes];
    for (const p of input.partitions) args.push(p.token, p.count, p.after, p.maxBytes, p.averageBytes, p.recheck ? '1' : '0');
    return args;
  },
  parse: (reply) =>
    list(reply).map((item): FetchReply => {
      const status = statusOf(item);
      return status === 'ok' ? { status, packed: list(item)[1] as Buffer } : { status: status as 'fenced' | 'gone' };
    }),
  describe: (input) => (input.partitions.length === 1 ? `fetch from ${where(input.partitions[0])}` : `fetch from ${input.partitions.length} partitions`),
});

export interface ClaimInput extends OwnedPartitionRef {
  cursor: string;
  count: number;
  maxBytes: number;
  averageBytes: number;
}

export type ClaimReply =
  | { status: 'ok'; cursor: string; packed: Buffer; deletedIds: string[]; failures: Array<Buffer | null> }
  | { status: 'fenced' | 'gone' };

/** Takes over what earlier owners left pending (see claim.lua). */
export const claim = spec<ClaimInput, ClaimReply>({
  name: 'claim',
  buffers: true,
  keys: (keys, { topic, partition, group }) => [keys.log(topic, partition), keys.lease(topic, partition, group), keys.attempts(topic, partition, group)],
  args: (input) => [input.group, input.token, input.cursor, input.count, input.maxBytes, input.averageBytes],
  parse: (reply) => {
    const r = list(reply);
    const status = statusOf(r);
    if (status !== 'ok') return { status: status as 'fenced' | 'gone' };
    return { status, cursor: text(r[1]), packed: r[2] as Buffer, deletedIds: texts(r[3]), failures: failureList(r[4]) };
  },
  describe: (input) => `take over pending messages of ${where(input)}`,
});

/** A message named by its offset's stream ID and its message id. */
export interface MessageRef {
  id: string;
  messageId: string;
}

/** Acknowledges handled log messages (see ack.lua). */
export const ack = spec<
  OwnedPartitionRef & { messages: readonly MessageRef[]; /** Send every message id, not only the highest's. */ verifyEach?: boolean },
  { status: 'ok'; acknowledged: number; stale: string[] } | { status: 'fenced' | 'unverified' }
>({
  name: 'ack',
  keys: (keys, { topic, partition, group }) => [
    keys.log(topic, partition), keys.lease(topic, partition, group), keys.attempts(topic, partition, group), keys.stats(topic, partition, group),
  ],
  args: (input) => {
    // The highest offset goes first: the script checks it to vouch for the whole batch.
    const messages = [...input.messages];
    let highest = 0;
    for (let i = 1; i < messages.length; i++) if (seqOfId(messages[i].id) > seqOfId(messages[highest].id)) highest = i;
    [messages[0], messages[highest]] = [messages[highest], messages[0]];
    const checked = input.verifyEach ? messages : messages.slice(0, 1);
    return [input.group, input.token, messages.length, checked.length, ...messages.map((m) => m.id), ...checked.map((m) => m.messageId)];
  },
  parse: (reply) => {
    const r = list(reply);
    const status = statusOf(r);
    if (status === 'ok') return { status, acknowledged: num(r[1]), stale: texts(r[2]) };
    return { status: status === 'unverified' ? 'unverified' : 'fenced' };
  },
  describe: (input) => `acknowledge messages of ${where(input)}`,
});

export interface RecordFailureInput extends OwnedPartitionRef, MessageRef {
  attempt: number;
  /** JSON { name, message }. */
  error: string;
}

/** Counts a failed attempt of a message retried in place (see record-failure.lua). */
export const recordFailure = spec<RecordFailureInput, { status: 'ok'; attempts: number } | { status: 'fenced' } | { status: 'stale' }>({
  name: 'record-failure',
  keys: (keys, { topic, partition, group }) => [
    keys.log(topic, partition), keys.lease(topic, partition, group), keys.attempts(topic, partition, group), keys.stats(topic, partition, group),
  ],
  args: (input) => [input.group, input.token, input.id, input.messageId, input.attempt, input.error],
  parse: (reply) => {
    const r = list(reply);
    const status = statusOf(r);
    if (status === 'ok') return { status, attempts: num(r[1]) };
    return status === 'fenced' ? { status } : { status: 'stale' };
  },
  describe: (input) => `record a failed attempt on ${where(input)}`,
});

/** A failed message to park in the delay queue. */
export interface ParkedMessage extends MessageRef {
  source: MessageSource;
  attempt: number;
  delayMs: number;
  /** JSON { name, message }. */
  error: string;
  /** The message's fields (sent only for source 'log'). */
  fields: readonly Buffer[];
}

/** Parks failed messages in the delay queue (see schedule-retry.lua). */
export const scheduleRetry = spec<OwnedPartitionRef & { messages: readonly ParkedMessage[] }, { status: 'ok'; parked: number; stale: string[] } | { status: 'fenced' }>({
  name: 'schedule-retry',
  keys: (keys, { topic, partition, group }) => [
    keys.log(topic, partition), keys.lease(topic, partition, group), keys.attempts(topic, partition, group), keys.stats(topic, partition, group),
    keys.delayQueue(topic, partition, group), keys.delayPayloads(topic, partition, group), keys.delayTaken(topic, partition, group),
  ],
  args: (input) => {
    const args: ScriptArg[] = [input.group, input.token, input.messages.length];
    for (const m of input.messages) {
      const fields = m.source === 'log' ? m.fields : [];
      args.push(m.id, m.messageId, m.source, m.attempt, m.delayMs, m.error, fields.length, ...fields);
    }
    return args;
  },
  parse: (reply) => {
    const r = list(reply);
    return statusOf(r) === 'ok' ? { status: 'ok', parked: num(r[1]), stale: texts(r[2]) } : { status: 'fenced' };
  },
  describe: (input) => `park failed messages of ${where(input)} for a retry`,
});

export type TakeDueReply = { status: 'ok'; packed: Buffer; failures: Array<Buffer | null>; msUntilNextDue: number } | { status: 'fenced' };

/** Takes the due messages of the delay queue (see take-due.lua). */
export const takeDue = spec<OwnedPartitionRef & { count: number; maxBytes: number }, TakeDueReply>({
  name: 'take-due',
  buffers: true,
  keys: (keys, { topic, partition, group }) => [
    keys.lease(topic, partition, group), keys.attempts(topic, partition, group), keys.delayQueue(topic, partition, group),
    keys.delayPayloads(topic, partition, group), keys.delayTaken(topic, partition, group),
  ],
  args: (input) => [input.token, input.count, input.maxBytes],
  parse: (reply) => {
    const r = list(reply);
    if (statusOf(r) !== 'ok') return { status: 'fenced' };
    const next = num(r[3]);
    return { status: 'ok', packed: r[1] as Buffer, failures: failureList(r[2]), msUntilNextDue: next === -1 ? Infinity : next };
  },
  describe: (input) => `take due retries of ${where(input)}`,
});

/** Removes retried messages that succeeded from the delay queue (see ack-delayed.lua). */
export const ackDelayed = spec<OwnedPartitionRef & { ids: readonly string[] }, { status: 'ok'; removed: number; stale: string[] } | { status: 'fenced' }>({
  name: 'ack-delayed',
  keys: (keys, { topic, partition, group }) => [
    keys.lease(topic, partition, group), keys.attempts(topic, partition, group), keys.stats(topic, partition, group),
    keys.delayPayloads(topic, partition, group), keys.delayTaken(topic, partition, group),
  ],
  args: (input) => [input.token, ...input.ids],
  parse: (reply) => {
    const r = list(reply);
    return statusOf(r) === 'ok' ? { status: 'ok', removed: num(r[1]), stale: texts(r[2]) } : { status: 'fenced' };
  },
  describe: (input) => `acknowledge retried messages of ${where(input)}`,
});

export interface DeadLetterInput extends OwnedPartitionRef, MessageRef {
  /** Where the message is; `shared:<delivery>` for a share group's record held by member `token`. */
  source: MessageSource | `shared:${number}`;
  /** Whether this step records a failed handler attempt. */
  failed: boolean;
  /** Field/value strings describing the failure (see the dead-letter record). */
  diagnostics: ReadonlyArray<string | number>;
  fields: readonly Buffer[];
}

/** Moves a message to the group's dead-letter topic (see dead-letter.lua). */
export const deadLetter = spec<DeadLetterInput, { status: 'ok' | 'stale'; deadLetterId: string } | { status: 'fenced' }>({
  name: 'dead-letter',
  keys: (keys, input) => {
    const { topic, partition, group } = input;
    return [
      keys.log(topic, partition), keys.lease(topic, partition, group), keys.attempts(topic, partition, group), keys.stats(topic, partition, group),
      keys.delayPayloads(topic, partition, group), keys.delayTaken(topic, partition, group), keys.deadLetters(topic, partition, group),
      keys.deadLetterTags(topic, partition, group), keys.deadLetterKeys(topic, partition, group),
      keys.deadLetterPostings(topic, partition, group, reasonTag(diagnosticValue(input.diagnostics, 'reason') ?? 'handler-error')),
      keys.deadLetterPostings(topic, partition, group, errorTag(diagnosticValue(input.diagnostics, 'errorName') ?? '')),
      keys.deadLetterReplays(topic, partition, group),
    ];
  },
  args: (input) => [
    input.group, input.token, input.id, input.messageId, input.source, input.failed ? '1' : '0',
    input.diagnostics.length, ...input.diagnostics, ...input.fields,
  ],
  parse: (reply) => {
    const r = list(reply);
    const status = statusOf(r);
    if (status === 'fenced') return { status };
    return { status: status as 'ok' | 'stale', deadLetterId: text(r[1]) };
  },
  describe: (input) => `dead-letter a message of ${where(input)}`,
});
