import { list, num, spec, text, where, type PartitionRef } from '../script-spec.js';

/** Creates an empty partition log when it does not exist yet. */
export const createPartition = spec<PartitionRef, boolean>({
  name: 'create-partition',
  keys: (keys, { topic, partition }) => [keys.log(topic, partition)],
  args: () => [],
  parse: (reply) => num(reply) === 1,
  describe: (input) => `create ${where(input)}`,
});

/** Registers a topic's configuration, idempotently; createdAt comes from the Redis clock. */
export const registerTopic = spec<{ topic: string; config: string }, { status: 'created' | 'exists' | 'conflict'; config: string }>({
  name: 'register-topic',
  keys: (keys) => [keys.topics()],
  args: (input) => [input.topic, input.config],
  parse: (reply) => {
    const [status, config] = list(reply).map(text);
    return { status: status as 'created' | 'exists' | 'conflict', config };
  },
  describe: (input) => `create topic '${input.topic}'`,
});

/** Raises a topic's partition count. */
export const growTopic = spec<{ topic: string; partitions: number }, { status: 'grown' | 'same' | 'shrink' | 'missing'; config?: string }>({
  name: 'grow-topic',
  keys: (keys) => [keys.topics()],
  args: (input) => [input.topic, input.partitions],
  parse: (reply) => {
    const [status, config] = list(reply).map(text);
    return { status: status as 'grown' | 'same' | 'shrink' | 'missing', config };
  },
  describe: (input) => `add partitions to '${input.topic}'`,
});

/** Log start and end offsets of a partition. */
export const partitionOffsets = spec<PartitionRef, { exists: boolean; highOffset: number; lowOffset: number; length: number }>({
  name: 'partition-offsets',
  keys: (keys, { topic, partition }) => [keys.log(topic, partition)],
  args: () => [],
  parse: (reply) => {
    const [exists, high, low, length] = list(reply).map(num);
    return { exists: exists === 1, highOffset: high, lowOffset: low, length };
  },
  describe: (input) => `describe ${where(input)}`,
});

/** One group's position on one partition (see group-offsets.lua). */
export interface GroupOffsetsReply {
  /** 1 positioned, 0 never read this partition, -1 no log. */
  state: number;
  highOffset: number;
  lowOffset: number;
  lastDeliveredSeq: number;
  pending: number;
  /** -1 with nothing pending. */
  minPendingSeq: number;
  /** The lease's token, or ''. */
  owner: string;
  retrying: number;
  deadLettered: number;
  stats: Map<string, number>;
  /** The oldest unfinished offset, -1 when the group finished everything. */
  oldestOffset: number;
  /** Append time (ms) of the first stored message at or after `oldestOffset`, -1 when none is stored. */
  oldestAppendMs: number;
  /** The Redis clock (ms) when the script ran. */
  nowMs: number;
}

export const groupOffsets = spec<PartitionRef & { group: string }, GroupOffsetsReply>({
  name: 'group-offsets',
  keys: (keys, { topic, partition, group }) => [
    keys.log(topic, partition), keys.lease(topic, partition, group), keys.delayQueue(topic, partition, group),
    keys.deadLetters(topic, partition, group), keys.stats(topic, partition, group), keys.delayTaken(topic, partition, group),
  ],
  args: (input) => [input.group],
  parse: (reply) => {
    const r = list(reply);
    const flat = list(r[9]);
    const stats = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) stats.set(text(flat[i]), num(flat[i + 1]));
    return {
      state: num(r[0]),
      highOffset: num(r[1] ?? 0),
      lowOffset: num(r[2] ?? 0),
      lastDeliveredSeq: num(r[3] ?? 0),
      pending: num(r[4] ?? 0),
      minPendingSeq: num(r[5] ?? -1),
      owner: r[6] === undefined ? '' : text(r[6]),
      retrying: num(r[7] ?? 0),
      deadLettered: num(r[8] ?? 0),
      stats,
      oldestOffset: num(r[10] ?? -1),
      oldestAppendMs: num(r[11] ?? -1),
      nowMs: num(r[12] ?? 0),
    };
  },
  describe: (input) => `describe ${where(input)} for '${input.group}'`,
});

/** Removes entries older than the retention from the head of a log (see trim-by-age.lua). */
export const trimByAge = spec<PartitionRef & { maxAgeMs: number; maxEntries: number }, { removed: number; more: boolean }>({
  name: 'trim-by-age',
  keys: (keys, { topic, partition }) => [keys.log(topic, partition), keys.timeIndex(topic, partition)],
  args: (input) => [input.maxAgeMs, input.maxEntries],
  parse: (reply) => {
    const [removed, more] = list(reply).map(num);
    return { removed, more: more === 1 };
  },
  describe: (input) => `enforce retention on ${where(input)}`,
});

export type AcquireControllerReply = { held: true; epoch: number } | { held: false; epoch: number; remainingMs: number; holder: string };

/** Campaigns for, or renews, the controller's leader lease. */
export const acquireController = spec<{ holderId: string; epoch: number; leaseMs: number }, AcquireControllerReply>({
  name: 'acquire-controller',
  keys: (keys) => [keys.controllerLease()],
  args: (input) => [input.holderId, input.epoch, input.leaseMs],
  parse: (reply) => {
    const r = list(reply);
    return num(r[0]) === 1 ? { held: true, epoch: num(r[1]) } : { held: false, epoch: num(r[1]), remainingMs: num(r[2]), holder: text(r[3]) };
  },
  describe: (input) => (input.epoch === 0 ? 'campaign for the controller lease' : 'renew the controller lease'),
});

/** Ends a term of the controller's leader lease. */
export const releaseController = spec<{ holderId: string; epoch: number }, boolean>({
  name: 'release-controller',
  keys: (keys) => [keys.controllerLease()],
  args: (input) => [input.holderId, input.epoch],
  parse: (reply) => num(reply) === 1,
  describe: () => 'release the controller lease',
});
