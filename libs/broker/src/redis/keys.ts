import { InvalidArgumentError } from '../errors/errors.js';

const PREFIX_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The key layout. Everything about one partition shares the hash tag `{<topic>:<partition>}` so
 * that every state change of a partition is one atomic script, also on Redis Cluster. Brook's own
 * metadata uses tags starting with `__`, which no topic or group name may start with.
 */
export class KeySpace {
  constructor(readonly prefix: string) {
    if (!PREFIX_PATTERN.test(prefix)) {
      throw new InvalidArgumentError(
        `Invalid key prefix ${JSON.stringify(prefix)}: use 1 to 64 characters from A-Z, a-z, 0-9, '.', '_', ':' and '-'.`,
      );
    }
  }

  /** Hash of topic name → JSON topic config. */
  topics(): string {
    return `${this.prefix}:{__meta}:topics`;
  }

  /** Hash of group name → JSON group summary (topics it subscribed to). */
  groups(): string {
    return `${this.prefix}:{__meta}:groups`;
  }

  /** The hash tag every key of one partition carries. */
  partitionTag(topic: string, partition: number): string {
    return `{${topic}:${partition}}`;
  }

  /** The partition's log: a stream whose IDs are `0-<offset + 1>`. */
  log(topic: string, partition: number): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:log`;
  }

  /** Per producer, the last sequence appended and the last few batches: hash of producer id → state (see produce.lua). */
  producers(topic: string, partition: number): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:producers`;
  }

  /** Append times by offset, one point per second, for age retention: a sorted set (see produce.lua). */
  timeIndex(topic: string, partition: number): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:times`;
  }

  /** The group's ownership lease on the partition: a string holding the owner's fencing token `<memberId>:<acquisition>`. */
  lease(topic: string, partition: number, group: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:lease:${group}`;
  }

  /** The keys of a partition itself (not of a group): its log, producer state and time index. */
  partitionKeys(topic: string, partition: number): string[] {
    return [this.log(topic, partition), this.producers(topic, partition), this.timeIndex(topic, partition)];
  }

  /** Failure bookkeeping of the group's messages on the partition: hash of offset → attempts record. */
  attempts(topic: string, partition: number, group: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:attempts:${group}`;
  }

  /** The group's delay queue on the partition: sorted set of offset by due time. */
  delayQueue(topic: string, partition: number, group: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:delay:${group}`;
  }

  /** Payloads of messages waiting in the delay queue: hash of offset → packed fields. */
  delayPayloads(topic: string, partition: number, group: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:delay-msgs:${group}`;
  }

  /** Messages a worker took from the delay queue and has not finished: hash of offset → its token. */
  delayTaken(topic: string, partition: number, group: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:delay-taken:${group}`;
  }

  /** The group's dead letters for the partition: a stream. */
  deadLetters(topic: string, partition: number, group: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:dlt:${group}`;
  }

  /**
   * The dead-letter index's tag counts: hash of tag (`reason:<reason>`, `error:<errorTag>`) → how
   * many of the group's dead letters on the partition carry it. Lists the posting streams that exist.
   */
  deadLetterTags(topic: string, partition: number, group: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:dlt-ix:${group}`;
  }

  /**
   * The dead letters carrying one tag, in dead-letter order: a stream whose entry IDs are the dead
   * letters' IDs (a posting list; time ranges are ID ranges). `tag` as in {@link deadLetterTags}.
   */
  deadLetterPostings(topic: string, partition: number, group: string, tag: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:dlt-ix:${group}:${tag}`;
  }

  /** Dead letters by message key: hash of key (or `#<sha1>` of a long one) → space-separated dead-letter IDs. */
  deadLetterKeys(topic: string, partition: number, group: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:dlt-keys:${group}`;
  }

  /** How often each message was replayed to the group: hash of the message's stream ID → count (the replay cap). */
  deadLetterReplays(topic: string, partition: number, group: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:dlt-replays:${group}`;
  }

  /** A replay job's progress on one partition: hash of cursor, replayed, parked, done (see replay-job-step.lua). */
  replayJobProgress(topic: string, partition: number, jobId: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:replay-job:${jobId}`;
  }

  /** Counters of the group on the partition: processed, failed, retried, dead-lettered, skipped, rollbacks. */
  stats(topic: string, partition: number, group: string): string {
    return `${this.prefix}:${this.partitionTag(topic, partition)}:stats:${group}`;
  }

  /** Every key a group may own on a partition, for deletion. */
  groupPartitionKeys(topic: string, partition: number, group: string): string[] {
    return [
      this.stats(topic, partition, group),
      this.lease(topic, partition, group),
      this.attempts(topic, partition, group),
      this.delayQueue(topic, partition, group),
      this.delayPayloads(topic, partition, group),
      this.delayTaken(topic, partition, group),
      this.deadLetters(topic, partition, group),
      this.deadLetterTags(topic, partition, group),
      this.deadLetterKeys(topic, partition, group),
      this.deadLetterReplays(topic, partition, group),
    ];
  }

  /** Hash tag of a group's coordination keys. */
  groupTag(group: string): string {
    return `{__group:${group}}`;
  }

  /** Live members of the group: sorted set of member id by session deadline (Redis clock, ms). */
  groupMembers(group: string): string {
    return `${this.prefix}:${this.groupTag(group)}:members`;
  }

  /** Per-member metadata: hash of member id → JSON { clientId, topics }. */
  groupMemberInfo(group: string): string {
    return `${this.prefix}:${this.groupTag(group)}:member-info`;
  }

  /** Current assignment: hash of member id → JSON list of `<topic>:<partition>`, plus `__generation`, `__fingerprint` and `__primary`. */
  groupAssignment(group: string): string {
    return `${this.prefix}:${this.groupTag(group)}:assignment`;
  }

  /** A share group's acquisition lock length in ms, agreed by its members (see share-member.lua). */
  groupShareLock(group: string): string {
    return `${this.prefix}:${this.groupTag(group)}:share-lock`;
  }

  /** Partition counts the group knows per topic: hash of topic → count (only grows). */
  groupTopics(group: string): string {
    return `${this.prefix}:${this.groupTag(group)}:topics`;
  }

  /** Partition counts per topic when the group first subscribed: decides where new partitions start. */
  groupOrigins(group: string): string {
    return `${this.prefix}:${this.groupTag(group)}:origins`;
  }

  /**
   * The group's lag on a topic sampled over time by the maintenance controller: a stream whose IDs
   * carry the Redis time of each sample (see groups/lag-history.ts).
   */
  lagHistory(group: string, topic: string): string {
    return `${this.prefix}:${this.groupTag(group)}:lag-history:${topic}`;
  }

  /** Every coordination key of a group that does not depend on a topic, for deletion. */
  groupCoordinationKeys(group: string): string[] {
    return [...this.membershipKeys(group), this.groupShareLock(group)];
  }

  /** The keys of the `membership` script, in its KEYS order. */
  membershipKeys(group: string): string[] {
    return [this.groupMembers(group), this.groupMemberInfo(group), this.groupAssignment(group), this.groupTopics(group), this.groupOrigins(group)];
  }

  /** Epochs of producers with a stable producer id: hash of producer id → latest epoch. */
  producerEpochs(): string {
    return `${this.prefix}:{__meta}:producer-epochs`;
  }

  /** A consumer's wake-up stream: appending to it ends the consumer's blocking read early. */
  memberWake(memberId: string): string {
    return `${this.prefix}:{__member:${memberId}}:wake`;
  }

  /** The audit log of dead-letter operations: a stream. */
  audit(): string {
    return `${this.prefix}:{__meta}:audit`;
  }

  /** Replay jobs: hash of job id → JSON job (its selection, state and who started it). */
  replayJobs(): string {
    return `${this.prefix}:{__meta}:replay-jobs`;
  }

  /** Dead-letter retention per group and topic: hash of `<group>/<topic>` → JSON { maxAgeMs, maxCount }. */
  deadLetterRetention(): string {
    return `${this.prefix}:{__meta}:dlt-retention`;
  }

  /** The maintenance controller's leader lease. */
  controllerLease(): string {
    return `${this.prefix}:{__meta}:controller`;
  }
}
