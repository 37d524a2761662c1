import type { BrookContext } from '../client/context.js';
import type { CreateTopicRequest, RetentionResult, TopicAdmin, TopicDescription } from '../topics/topic-admin.js';

/**
 * Operator's view of Brook: topics, groups, offsets and dead letters. Obtain it with
 * `brook.admin()`; it shares the client's connection.
 */
export class Admin {
  constructor(
    private readonly ctx: BrookContext,
    private readonly topics: TopicAdmin,
  ) {}

  /** Creates a topic; `true` if created, `false` if it already existed with the same configuration. */
  createTopic(request: CreateTopicRequest): Promise<boolean> {
    return this.topics.createTopic(request);
  }

  /** Every topic with its partition count. */
  listTopics(): Promise<Array<{ topic: string; partitions: number }>> {
    return this.topics.listTopics();
  }

  /** Retention, and per partition the log start/end offsets, leader and replicas. */
  describeTopic(topic: string): Promise<TopicDescription> {
    return this.topics.describeTopic(topic);
  }

  /** Grows a topic to `partitions` partitions; partitions never shrink. */
  addPartitions(topic: string, partitions: number): Promise<void> {
    return this.topics.addPartitions(topic, partitions);
  }

  /** Deletes a topic with its messages and every group's state on it. */
  deleteTopic(topic: string): Promise<void> {
    return this.topics.deleteTopic(topic);
  }

  /** Trims messages older than each topic's `retention.maxAgeMs`. */
  enforceRetention(now?: number): Promise<RetentionResult[]> {
    return this.topics.enforceRetention(now);
  }

  /** The Redis server's version; a cheap reachability check. */
  async ping(): Promise<void> {
    await this.ctx.ready();
    await this.ctx.run('ping Redis', () => this.ctx.client.ping());
  }
}
