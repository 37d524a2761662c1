import { list, num, spec, text, texts, where, type PartitionRef } from '../script-spec.js';
import { statusOf } from '../script-status.js';

/** One group's dead letters on one partition. */
export interface DeadLetterRef extends PartitionRef {
  group: string;
}

/** The index's posting streams a removal may touch: every tag of the partition's dead letters. */
export interface IndexTags {
  tags: readonly string[];
}

/** A removal whose posting keys were incomplete (a new tag arrived): read the tags again and repeat. */
export interface Retag {
  status: 'retag';
  tag: string;
}

/** Sends dead letters back to the group that failed them, up to the replay cap (see replay-dead-letters.lua). */
export const replayDeadLetters = spec<DeadLetterRef & IndexTags & { ids: readonly string[]; maxReplays: number }, { status: 'ok'; replayed: string[]; parked: string[] } | Retag>({
  name: 'replay-dead-letters',
  keys: (keys, { topic, partition, group, tags }) => [
    keys.deadLetters(topic, partition, group), keys.delayQueue(topic, partition, group),
    keys.delayPayloads(topic, partition, group), keys.attempts(topic, partition, group),
    keys.deadLetterTags(topic, partition, group), keys.deadLetterKeys(topic, partition, group), keys.deadLetterReplays(topic, partition, group),
    ...tags.map((tag) => keys.deadLetterPostings(topic, partition, group, tag)),
  ],
  args: (input) => [input.maxReplays, input.tags.length, ...input.tags, ...input.ids],
  parse: (reply) => {
    const r = list(reply);
    if (statusOf(r) === 'retag') return { status: 'retag', tag: text(r[1]) };
    return { status: 'ok', replayed: texts(r[1]), parked: texts(r[2]) };
  },
  describe: (input) => `replay dead letters of '${input.group}' on ${where(input)}`,
});

/** Deletes dead letters by ID or by retention, with their index entries (see remove-dead-letters.lua). */
export const removeDeadLetters = spec<
  DeadLetterRef & IndexTags & ({ mode: 'ids'; ids: readonly string[] } | { mode: 'retention'; maxAgeMs: number; maxCount: number; maxEntries: number }),
  { status: 'ok'; removed: string[]; more: boolean } | Retag
>({
  name: 'remove-dead-letters',
  keys: (keys, { topic, partition, group, tags }) => [
    keys.deadLetters(topic, partition, group), keys.deadLetterTags(topic, partition, group),
    keys.deadLetterKeys(topic, partition, group), keys.deadLetterReplays(topic, partition, group),
    ...tags.map((tag) => keys.deadLetterPostings(topic, partition, group, tag)),
  ],
  args: (input) => [
    input.mode, input.tags.length, ...input.tags,
    ...(input.mode === 'ids' ? input.ids : [input.maxAgeMs, input.maxCount, input.maxEntries]),
  ],
  parse: (reply) => {
    const r = list(reply);
    if (statusOf(r) === 'retag') return { status: 'retag', tag: text(r[1]) };
    return { status: 'ok', removed: texts(r[1]), more: num(r[2]) === 1 };
  },
  describe: (input) => `remove dead letters of '${input.group}' on ${where(input)}`,
});

/** What one search step on one partition checks (see search-dead-letters.lua). */
export interface SearchStepInput extends DeadLetterRef {
  /** Which candidates to walk: the posting stream of `tag`, the dead letters of `key`, or all. */
  mode: 'postings' | 'key' | 'log';
  tag?: string;
  start: string;
  end: string;
  reason?: string;
  errorName?: string;
  /** Lower-cased substring of the error message. */
  text?: string;
  key?: string;
  fromOffset?: number;
  toOffset?: number;
  parked?: boolean;
  maxReplays: number;
  limit: number;
  budget: number;
  maxBytes: number;
  /** Count matches without returning them. */
  countOnly?: boolean;
}

export interface SearchStepReply {
  matches: Array<[string, Buffer[]]>;
  /** The last candidate examined, '' when none. */
  last: string;
  /** No candidate left in the range. */
  done: boolean;
  count: number;
  /** Candidates examined. */
  examined: number;
}

export const searchDeadLetters = spec<SearchStepInput, SearchStepReply>({
  name: 'search-dead-letters',
  buffers: true,
  keys: (keys, input) => [
    keys.deadLetters(input.topic, input.partition, input.group),
    input.mode === 'postings' && input.tag !== undefined
      ? keys.deadLetterPostings(input.topic, input.partition, input.group, input.tag)
      : keys.deadLetters(input.topic, input.partition, input.group),
    keys.deadLetterKeys(input.topic, input.partition, input.group),
  ],
  args: (input) => [
    input.mode, input.start, input.end, input.reason ?? '', input.errorName ?? '', input.text ?? '', input.key ?? '',
    input.fromOffset ?? -1, input.toOffset ?? -1, input.parked === undefined ? '' : input.parked ? '1' : '0', input.maxReplays,
    input.limit, input.budget, input.maxBytes, input.countOnly === true ? '1' : '0',
  ],
  parse: (reply) => {
    const r = list(reply);
    const matches = list(r[0]).map((entry) => {
      const [id, fields] = list(entry);
      return [text(id), list(fields) as Buffer[]] as [string, Buffer[]];
    });
    return { matches, last: text(r[1]), done: num(r[2]) === 1, count: num(r[3]), examined: num(r[4]) };
  },
  describe: (input) => `search dead letters of '${input.group}' on ${where(input)}`,
});

/** One step of a replay job on one partition (see replay-job-step.lua). */
export const replayJobStep = spec<
  DeadLetterRef & IndexTags & { jobId: string; expected: string; next: string; done: boolean; maxReplays: number; ids: readonly string[] },
  { status: 'ok'; replayed: string[]; parked: string[] } | { status: 'stale' } | Retag
>({
  name: 'replay-job-step',
  keys: (keys, { topic, partition, group, tags, jobId }) => [
    keys.deadLetters(topic, partition, group), keys.delayQueue(topic, partition, group),
    keys.delayPayloads(topic, partition, group), keys.attempts(topic, partition, group),
    keys.deadLetterTags(topic, partition, group), keys.deadLetterKeys(topic, partition, group), keys.deadLetterReplays(topic, partition, group),
    keys.replayJobProgress(topic, partition, jobId),
    ...tags.map((tag) => keys.deadLetterPostings(topic, partition, group, tag)),
  ],
  args: (input) => [input.expected, input.next, input.done ? '1' : '0', input.maxReplays, input.tags.length, ...input.tags, ...input.ids],
  parse: (reply) => {
    const r = list(reply);
    const status = statusOf(r);
    if (status === 'retag') return { status: 'retag', tag: text(r[1]) };
    if (status === 'stale') return { status: 'stale' };
    return { status: 'ok', replayed: texts(r[1]), parked: texts(r[2]) };
  },
  describe: (input) => `replay dead letters of '${input.group}' on ${where(input)} (job ${input.jobId})`,
});
