import { assertInteger } from '../client/brook.options.js';
import type { BrookContext } from '../client/context.js';
import { InvalidArgumentError, TopicConflictError, UnknownTopicError } from '../errors/errors.js';
import { readMessages, type ReadMessagesRequest, type ReadMessagesResult } from '../message/read-messages.js';
import { assertValidName } from '../names/names.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { Leadership } from '../redis/topology.js';
import { readTopologyWith, type TopologyOptions } from '../admin/topology-read.js';
import { fromStored, MAX_PARTITIONS, toStored, type TopicConfig } from './topic.js';
import type { TopicRegistry } from './topic-registry.js';

/** What `createTopic` takes. */
export interface CreateTopicRequest {
  topic: string;
  /** Number of partitions. @defaultValue `1` */
  partitions?: number;
  /** Retention; absent limits mean unlimited. */
  retention?: { maxMessages?: number | null; maxAgeMs?: number | null };
}

/** One partition as `describeTopic` reports it. */
export interface PartitionDescription extends Leadership {
  partition: number;
  /** Offset of the oldest message still stored (log start offset). */
  lowOffset: number;
  /** Offset the next message will get (log end offset, high watermark). */
  highOffset: number;
}

/** What `describeTopic` returns. */
export interface TopicDescription {
  topic: string;
  retention: TopicConfig['retention'];
  createdAt: number;
  partitions: PartitionDescription[];
}

/** Outcome of one `enforceRetention` pass for a topic. */
export interface RetentionResult {
  topic: string;
  /** Messages removed because they were older than `maxAgeMs`. */
  removed: number;
}

/**
 * Entries age retention removes per script call: bounded, so a large backlog of expired (possibly
 * 1 MB) messages is freed in many short steps rather than one long one.
 */
export const RETENTION_ENTRIES_PER_CALL = 200;

/** Topic operations of the admin client. */
export class TopicAdmin {
  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
  ) {}

  /**
   * Creates a topic and its partition logs. Idempotent for the same configuration: resolves `true`
   * when it created the topic, `false` when it already existed as asked; a different existing
   * configuration is refused with `TopicConflictError`.
   */
  async createTopic(request: CreateTopicRequest): Promise<boolean> {
    const wanted = validateCreateRequest(request);
    await this.ctx.ready();
    const existing = await this.registry.get(wanted.topic, { fresh: true });
    if (existing !== undefined) {
      this.assertSameConfig(existing, wanted);
      return false;
    }

    // Logs first, registry last: once the topic is visible, every partition log exists.
    await this.createLogs(wanted.topic, 0, wanted.partitions);
    const { status, config: stored } = await this.ctx.call(SCRIPTS.registerTopic, { topic: wanted.topic, config: JSON.stringify(toStored(wanted)) });
    const config = fromStored(wanted.topic, stored);
    this.registry.remember(wanted.topic, config);
    if (status === 'conflict') this.assertSameConfig(config, wanted);
    return status === 'created';
  }

  /** Every topic with its partition count, sorted by name. */
  async listTopics(): Promise<Array<{ topic: string; partitions: number }>> {
    const topics = await this.registry.list();
    return topics.map(({ topic, partitions }) => ({ topic, partitions }));
  }

  /** A topic's retention and, per partition, log start and end offsets, leader, replicas and their lag. */
  async describeTopic(topic: string, options?: TopologyOptions): Promise<TopicDescription> {
    const config = await this.require(topic);
    const { leadershipOf: lookup } = await readTopologyWith(this.ctx, options);
    const partitions = await Promise.all(
      range(config.partitions).map(async (partition) => {
        const { highOffset, lowOffset } = await this.ctx.call(SCRIPTS.partitionOffsets, { topic, partition });
        return { partition, lowOffset, highOffset, ...lookup(this.ctx.keys.log(topic, partition)) };
      }),
    );
    return { topic, retention: config.retention, createdAt: config.createdAt, partitions };
  }

  /** Grows a topic to `partitions` partitions. Existing keys keep their partition only if the count is unchanged — as in Kafka. */
  async addPartitions(topic: string, partitions: number): Promise<void> {
    assertValidName('topic', topic);
    assertInteger('partitions', partitions, 1, MAX_PARTITIONS);
    const current = await this.require(topic, { fresh: true });
    if (partitions < current.partitions) {
      throw new InvalidArgumentError(`Topic '${topic}' has ${current.partitions} partitions; partitions can only grow, so ask for ${current.partitions} or more.`);
    }
    if (partitions === current.partitions) return;
    await this.createLogs(topic, current.partitions, partitions);
    const { status, config: stored } = await this.ctx.call(SCRIPTS.growTopic, { topic, partitions });
    if (status === 'missing') throw new UnknownTopicError(topic);
    const config = fromStored(topic, stored!);
    this.registry.remember(topic, config);
    if (status === 'shrink') {
      throw new InvalidArgumentError(`Topic '${topic}' grew to ${config.partitions} partitions meanwhile; partitions can only grow.`);
    }
  }

  /**
   * Deletes a topic: its registry entry first (producers stop finding it), then every partition's
   * log and the state each group kept there (positions, leases, retry queues, dead letters).
   */
  async deleteTopic(topic: string): Promise<void> {
    const config = await this.require(topic, { fresh: true });
    await this.ctx.run(`delete topic '${topic}'`, () => this.ctx.client.hdel(this.ctx.keys.topics(), topic));
    this.registry.remember(topic, undefined);
    await Promise.all(
      range(config.partitions).map(async (partition) => {
        const log = this.ctx.keys.log(topic, partition);
        const groups = await this.ctx.run(`list groups of '${topic}'`, () => readGroupNames(this.ctx, log));
        // The dead-letter index's posting streams are one per tag: its tag hash names them.
        const postings = await this.ctx.run(`list dead-letter index keys of '${topic}'`, () =>
          Promise.all(groups.map(async (group) => (await this.ctx.client.hkeys(this.ctx.keys.deadLetterTags(topic, partition, group))).map((tag) => this.ctx.keys.deadLetterPostings(topic, partition, group, tag)))),
        );
        const keys = [
          ...this.ctx.keys.partitionKeys(topic, partition),
          ...groups.flatMap((group) => this.ctx.keys.groupPartitionKeys(topic, partition, group)),
          ...postings.flat(),
        ];
        await this.ctx.run(`delete partition ${partition} of '${topic}'`, () => this.ctx.client.del(...keys));
      }),
    );
  }

  /**
   * Removes messages appended longer ago than each topic's `maxAgeMs`, by the Redis clock and the
   * partitions' time index (never by producer timestamps or this process's clock). Each call
   * removes at most `RETENTION_ENTRIES_PER_CALL` entries of a partition and continues with more
   * calls, so no single script holds Redis up. The broker host runs this on a schedule; call it
   * yourself when you run without one.
   */
  async enforceRetention(): Promise<RetentionResult[]> {
    const topics = (await this.registry.list()).filter((config) => config.retention.maxAgeMs !== null);
    const results: RetentionResult[] = [];
    for (const config of topics) {
      let removed = 0;
      for (const partition of range(config.partitions)) {
        for (;;) {
          const trimmed = await this.ctx.call(SCRIPTS.trimByAge, {
            topic: config.topic,
            partition,
            maxAgeMs: config.retention.maxAgeMs!,
            maxEntries: RETENTION_ENTRIES_PER_CALL,
          });
          removed += trimmed.removed;
          if (!trimmed.more) break;
        }
      }
      results.push({ topic: config.topic, removed });
    }
    return results;
  }

  /** Messages of one partition from an offset on, read without consuming them. */
  readMessages(request: ReadMessagesRequest): Promise<ReadMessagesResult> {
    return readMessages(this.ctx, this.registry, request);
  }

  private async require(topic: string, options: { fresh?: boolean } = {}): Promise<TopicConfig> {
    assertValidName('topic', topic);
    const config = await this.registry.get(topic, options);
    if (config === undefined) throw new UnknownTopicError(topic);
    return config;
  }

  private async createLogs(topic: string, from: number, to: number): Promise<void> {
    await Promise.all(range(to - from).map((i) => this.ctx.call(SCRIPTS.createPartition, { topic, partition: from + i })));
  }

  private assertSameConfig(existing: TopicConfig, wanted: TopicConfig): void {
    const same =
      existing.partitions === wanted.partitions &&
      existing.retention.maxMessages === wanted.retention.maxMessages &&
      existing.retention.maxAgeMs === wanted.retention.maxAgeMs;
    if (!same) {
      throw new TopicConflictError(
        `Topic '${wanted.topic}' already exists with ${describeConfig(existing)}; the request asked for ${describeConfig(wanted)}. ` +
          `Use addPartitions() to grow it, or deleteTopic() first to recreate it.`,
      );
    }
  }
}

function describeConfig(config: TopicConfig): string {
  const { maxMessages, maxAgeMs } = config.retention;
  return `${config.partitions} partition(s), retention maxMessages=${maxMessages ?? 'unlimited'}, maxAgeMs=${maxAgeMs ?? 'unlimited'}`;
}

function validateCreateRequest(request: CreateTopicRequest): TopicConfig {
  if (request === null || typeof request !== 'object') {
    throw new InvalidArgumentError("createTopic needs { topic, partitions }, e.g. createTopic({ topic: 'orders.created', partitions: 6 }).");
  }
  assertValidName('topic', request.topic);
  const partitions = request.partitions ?? 1;
  assertInteger('partitions', partitions, 1, MAX_PARTITIONS);
  const retention = request.retention ?? {};
  if (retention === null || typeof retention !== 'object') {
    throw new InvalidArgumentError('retention must be an object like { maxMessages, maxAgeMs }.');
  }
  const maxMessages = retention.maxMessages ?? null;
  const maxAgeMs = retention.maxAgeMs ?? null;
  if (maxMessages !== null) assertInteger('retention.maxMessages', maxMessages, 1);
  if (maxAgeMs !== null) assertInteger('retention.maxAgeMs', maxAgeMs, 1);
  // createdAt is set by the register-topic script from the Redis clock.
  return { topic: request.topic, partitions, retention: { maxMessages, maxAgeMs }, createdAt: 0 };
}

/** Names of the Redis consumer groups on a stream; none when it does not exist. */
export async function readGroupNames(ctx: BrookContext, log: string): Promise<string[]> {
  try {
    const groups = (await ctx.client.xinfo('GROUPS', log)) as unknown[][];
    return groups.map((fields) => String(fields[fields.indexOf('name') + 1]));
  } catch (error) {
    if (error instanceof Error && /no such key/i.test(error.message)) return [];
    throw error;
  }
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
