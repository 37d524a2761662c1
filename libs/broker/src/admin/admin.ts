import type { BrookContext } from '../client/context.js';
import type { ClusterAdmin, ClusterDescription } from './cluster-admin.js';
import type { TopologyOptions } from './topology-read.js';
import type { DeadLetterAdmin } from '../dead-letters/dead-letter-admin.js';
import type { ReadMessagesRequest, ReadMessagesResult } from '../message/read-messages.js';
import type { GroupAdmin, GroupDescription, GroupListing, ResetOffsetsRequest } from '../groups/group-admin.js';
import type { DeleteGroupRequest, DeleteGroupResult } from '../groups/group-deletion.js';
import type { LagHistoryRequest, LagSample } from '../groups/lag-history.js';
import type { CreateTopicRequest, RetentionResult, TopicAdmin, TopicDescription } from '../topics/topic-admin.js';

/**
 * Operator's view of Brook: topics, groups, offsets and dead letters. Obtain it with
 * `brook.admin()`; it shares the client's connection.
 */
export class Admin {
  constructor(
    private readonly ctx: BrookContext,
    private readonly topics: TopicAdmin,
    private readonly groups: GroupAdmin,
    /** Dead-letter topics: list, get, count, replay, purge, and the audit log of replays and purges. */
    readonly deadLetters: DeadLetterAdmin,
    private readonly cluster: ClusterAdmin,
  ) {}

  /** Creates a topic; `true` if created, `false` if it already existed with the same configuration. */
  createTopic(request: CreateTopicRequest): Promise<boolean> {
    return this.topics.createTopic(request);
  }

  /** Every topic with its partition count. */
  listTopics(): Promise<Array<{ topic: string; partitions: number }>> {
    return this.topics.listTopics();
  }

  /**
   * Retention, and per partition the log start/end offsets, the leader, its replicas, which of them
   * are in sync and each one's replication lag in bytes.
   */
  describeTopic(topic: string, options?: TopologyOptions): Promise<TopicDescription> {
    return this.topics.describeTopic(topic, options);
  }

  /**
   * Every Redis server of the deployment — role, slots, replication offset, lag and in-sync state
   * — and the partitions each primary leads.
   */
  describeCluster(options?: TopologyOptions): Promise<ClusterDescription> {
    return this.cluster.describeCluster(options);
  }

  /** Grows a topic to `partitions` partitions; partitions never shrink. */
  addPartitions(topic: string, partitions: number): Promise<void> {
    return this.topics.addPartitions(topic, partitions);
  }

  /** Deletes a topic with its messages and every group's state on it. */
  deleteTopic(topic: string): Promise<void> {
    return this.topics.deleteTopic(topic);
  }

  /** Trims messages appended longer ago than each topic's `retention.maxAgeMs` (Redis clock). */
  enforceRetention(): Promise<RetentionResult[]> {
    return this.topics.enforceRetention();
  }

  /** Up to `limit` (≤ 1,000) messages of a partition from `offset` (or the first at or after `timestamp`) on, without touching any group's position. */
  readMessages(request: ReadMessagesRequest): Promise<ReadMessagesResult> {
    return this.topics.readMessages(request);
  }

  /** Every group with its topics and live member count; with `{ lag: true }` also its total lag and lag in seconds. */
  listGroups(options?: { lag?: boolean }): Promise<GroupListing[]> {
    return this.groups.listGroups(options);
  }

  /** Removes a group and every key of it (positions, pending, retries, dead letters, counters, history); refused while members are live unless `force`. Audited. */
  deleteGroup(request: DeleteGroupRequest): Promise<DeleteGroupResult> {
    return this.groups.deleteGroup(request);
  }

  /** A group's lag (count and seconds) on a topic over time, as sampled by `recordLagHistory`; the last 24 hours are kept. */
  lagHistory(request: LagHistoryRequest): Promise<LagSample[]> {
    return this.groups.lagHistory(request);
  }

  /** Samples every group's lag on every topic into the lag history (the broker host's controller does this every 10 s). */
  recordLagHistory(): Promise<number> {
    return this.groups.recordLagHistory();
  }

  /** A group's members and, per partition of `topic`, owner, committed offset, lag and pending messages. */
  describeGroup(request: { group: string; topic: string }): Promise<GroupDescription> {
    return this.groups.describeGroup(request);
  }

  /** Moves a group's offsets on a topic; refused while it has live members unless `force`. */
  resetOffsets(request: ResetOffsetsRequest): Promise<Array<{ partition: number; offset: number }>> {
    return this.groups.resetOffsets(request);
  }

  /** Checks that Redis answers. */
  async ping(): Promise<void> {
    await this.ctx.ready();
    await this.ctx.run('ping Redis', () => this.ctx.client.ping());
  }
}
