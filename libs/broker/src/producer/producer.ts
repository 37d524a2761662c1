import { Cluster } from 'ioredis';
import type { BrookContext } from '../client/context.js';
import {
  ClosedError,
  InvalidArgumentError,
  MessageTooLargeError,
  NotEnoughReplicasError,
  PartitionOutOfRangeError,
  UnknownTopicError,
  type BrokerError,
} from '../errors/errors.js';
import type { Message, ProducerRecord, RecordMetadata } from '../message/message.js';
import { encodeMessage, type EncodedMessage } from '../message/wire.js';
import { assertValidName } from '../names/names.js';
import { runScript, type RedisClient, type ScriptArg } from '../redis/scripts.js';
import { slotOf } from '../redis/topology.js';
import type { TopicConfig } from '../topics/topic.js';
import type { TopicAdmin } from '../topics/topic-admin.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import { Partitioner } from './partitioner.js';
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from './producer.options.js';
import { SendRequest } from './send-request.js';

/** A message waiting in a partition batch. */
interface QueuedMessage {
  request: SendRequest;
  index: number;
  fields: Array<string | Buffer>;
  timestamp: number;
}

/** Messages for one partition collected during the current tick. */
interface PartitionBatch {
  topic: string;
  partition: number;
  maxMessages: number;
  keyless: boolean;
  partitions: number;
  messages: QueuedMessage[];
}

/** An encoded message with its partition, ready to join a batch. */
interface PlacedMessage {
  config: TopicConfig;
  partition: number;
  fields: Array<string | Buffer>;
  timestamp: number;
  keyless: boolean;
}

/** What `sendBatch` takes: several topics in one call. */
export interface ProducerBatch {
  topicMessages: ProducerRecord[];
}

const UNKNOWN_PARTITION = 'BROOK_UNKNOWN_PARTITION';

/**
 * Publishes messages. Every `send` in the same tick joins one flush: messages are grouped per
 * partition and each partition batch is appended by one atomic script, all pipelined together, so N
 * messages cost one round trip rather than N.
 */
export class Producer {
  readonly options: ResolvedProducerOptions;
  private readonly partitioner = new Partitioner();
  private readonly connection: RedisClient;
  private batches = new Map<string, PartitionBatch>();
  private flushScheduled = false;
  private readonly flushes = new Set<Promise<void>>();
  private readonly preparing = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
    private readonly topics: TopicAdmin,
    options?: ProducerOptions,
  ) {
    this.options = resolveProducerOptions(options);
    // WAIT blocks its connection until the replicas answer, so acks: 'all' gets a connection of its own.
    this.connection = this.options.acks === 'all' ? ctx.connect({ name: `${ctx.options.clientId}:producer` }) : ctx.client;
    ctx.track(this);
  }

  /**
   * Publishes messages to one topic. Resolves with each message's partition and offset, in the
   * order given, once the `acks` level is met. Invalid input rejects before anything is sent.
   */
  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [record] });
  }

  /** Publishes to several topics at once; results follow the order of `topicMessages` and their messages. */
  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    this.assertOpen();
    // close() waits for calls that started before it, so they are sent rather than refused.
    const preparing = this.prepare(batch);
    this.preparing.add(preparing);
    try {
      return await (await preparing).promise;
    } finally {
      this.preparing.delete(preparing);
    }
  }

  private async prepare(batch: ProducerBatch): Promise<{ promise: Promise<RecordMetadata[]> }> {
    if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.topicMessages)) {
      throw new InvalidArgumentError('sendBatch needs { topicMessages: [{ topic, messages }] }.');
    }
    const records = batch.topicMessages;
    for (const record of records) validateRecord(record);
    const configs = await Promise.all(records.map((record) => this.topicConfig(record.topic)));

    const total = records.reduce((sum, record) => sum + record.messages.length, 0);
    if (total === 0) return { promise: Promise.resolve([]) };
    const now = Date.now();
    // Encode and place every message before queueing any, so bad input leaves nothing half-sent.
    const placed = records.flatMap((record, r) => record.messages.map((message) => this.place(configs[r], message, now)));
    return { promise: this.enqueue(placed) };
  }

  /**
   * Appends messages that are already encoded (dead letters re-published to their topic keep their
   * exact bytes and codec). Keyed messages go to their key's partition.
   * @internal
   */
  async sendEncoded(topic: string, messages: EncodedMessage[]): Promise<RecordMetadata[]> {
    this.assertOpen();
    const config = await this.topicConfig(topic);
    if (messages.length === 0) return [];
    return this.enqueue(
      messages.map((message) => ({
        config,
        partition: this.partitioner.partition(topic, message.keyBytes, config.partitions),
        fields: message.fields,
        timestamp: message.timestamp,
        keyless: message.keyBytes === null,
      })),
    );
  }

  private enqueue(placed: PlacedMessage[]): Promise<RecordMetadata[]> {
    const request = new SendRequest(placed.length);
    placed.forEach((item, index) => {
      const key = `${item.config.topic}\u0000${item.partition}`;
      let partitionBatch = this.batches.get(key);
      if (partitionBatch === undefined) {
        partitionBatch = {
          topic: item.config.topic,
          partition: item.partition,
          maxMessages: item.config.retention.maxMessages ?? 0,
          keyless: false,
          partitions: item.config.partitions,
          messages: [],
        };
        this.batches.set(key, partitionBatch);
      }
      partitionBatch.keyless ||= item.keyless;
      partitionBatch.messages.push({ request, index, fields: item.fields, timestamp: item.timestamp });
    });
    this.scheduleFlush();

    if (this.options.acks === 'none') {
      placed.forEach((item, index) => request.landed(index, { topic: item.config.topic, partition: item.partition, offset: -1, timestamp: item.timestamp }));
    }
    return request.promise;
  }

  /** Sends what is queued, waits for every in-flight batch, and releases the producer's connection. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = (async () => {
        await Promise.allSettled([...this.preparing]);
        this.flushNow();
        await Promise.allSettled([...this.flushes]);
        this.ctx.untrack(this);
        if (this.connection !== this.ctx.client) await this.ctx.disconnect(this.connection);
      })();
    }
    return this.closing;
  }

  private assertOpen(): void {
    this.ctx.assertOpen('producer');
    if (this.closing !== undefined) throw new ClosedError('producer');
  }

  private async topicConfig(topic: string): Promise<TopicConfig> {
    const config = this.registry.peek(topic) ?? (await this.registry.get(topic));
    if (config !== undefined) return config;
    if (!this.options.allowAutoTopicCreation) {
      throw new UnknownTopicError(topic, `create it with admin.createTopic({ topic: '${topic}', partitions }) or create the producer with allowAutoTopicCreation: true`);
    }
    await this.topics.createTopic({ topic, partitions: this.options.autoTopicPartitions });
    const created = await this.registry.get(topic, { fresh: true });
    if (created === undefined) throw new UnknownTopicError(topic);
    return created;
  }

  private place(config: TopicConfig, message: Message, now: number): PlacedMessage {
    const encoded = encodeMessage(config.topic, message, this.options.codec, now);
    if (encoded.sizeBytes > this.options.maxMessageBytes) {
      throw new MessageTooLargeError(config.topic, encoded.sizeBytes, this.options.maxMessageBytes);
    }
    let partition: number;
    if (message.partition !== undefined && message.partition !== null) {
      if (!Number.isInteger(message.partition) || message.partition < 0 || message.partition >= config.partitions) {
        throw new PartitionOutOfRangeError(config.topic, message.partition, config.partitions);
      }
      partition = message.partition;
    } else {
      partition = this.partitioner.partition(config.topic, encoded.keyBytes, config.partitions);
    }
    return { config, partition, fields: encoded.fields, timestamp: encoded.timestamp, keyless: encoded.keyBytes === null && message.partition == null };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate rather than a microtask: sends that awaited cached metadata in this turn of the
    // event loop still join the same flush.
    setImmediate(() => this.flushNow());
  }

  private flushNow(): void {
    this.flushScheduled = false;
    if (this.batches.size === 0) return;
    const batches = [...this.batches.values()];
    this.batches = new Map();
    for (const batch of batches) if (batch.keyless) this.partitioner.batchSent(batch.topic, batch.partitions);
    const flush = this.flush(batches).catch((error: unknown) => {
      this.ctx.logger.error('A producer flush failed unexpectedly', { error: String(error) });
    });
    this.flushes.add(flush);
    void flush.finally(() => this.flushes.delete(flush));
  }

  private async flush(batches: PartitionBatch[]): Promise<void> {
    const chunks = batches.flatMap((batch) => chunk(batch, this.options.maxBatchMessages));
    const replies = await Promise.allSettled(chunks.map((part) => this.append(part)));

    let replicaError: BrokerError | undefined;
    if (this.options.acks === 'all' && replies.some((reply) => reply.status === 'fulfilled')) {
      replicaError = await this.waitForReplicas(chunks.filter((_, i) => replies[i].status === 'fulfilled'));
    }

    chunks.forEach((part, i) => {
      const reply = replies[i];
      if (reply.status === 'rejected') {
        const error = this.describeFailure(reply.reason, part);
        if (this.options.acks === 'none') {
          this.ctx.logger.warn(`Messages for partition ${part.partition} of '${part.topic}' were not written (acks: 'none')`, { error: error.message });
        }
        for (const message of part.messages) message.request.fail(error);
        return;
      }
      if (replicaError !== undefined) {
        for (const message of part.messages) message.request.fail(replicaError);
        return;
      }
      const firstOffset = reply.value - 1;
      part.messages.forEach((message, j) =>
        message.request.landed(message.index, { topic: part.topic, partition: part.partition, offset: firstOffset + j, timestamp: message.timestamp }),
      );
    });
  }

  private append(part: PartitionBatch): Promise<number> {
    const args: ScriptArg[] = [part.maxMessages, part.messages.length];
    for (const message of part.messages) args.push(message.fields.length, ...message.fields);
    return runScript<number>(this.connection, 'produce', [this.ctx.keys.log(part.topic, part.partition)], args);
  }

  private async waitForReplicas(written: PartitionBatch[]): Promise<BrokerError | undefined> {
    const { minInSyncReplicas, ackTimeoutMs } = this.options;
    try {
      let confirmed: number;
      if (this.connection instanceof Cluster) {
        const cluster = this.connection;
        const nodes = primariesFor(cluster, written.map((part) => this.ctx.keys.log(part.topic, part.partition)));
        const counts = await Promise.all(nodes.map((node) => node.wait(minInSyncReplicas, ackTimeoutMs)));
        confirmed = Math.min(...counts);
      } else {
        confirmed = await this.connection.wait(minInSyncReplicas, ackTimeoutMs);
      }
      return confirmed < minInSyncReplicas ? new NotEnoughReplicasError(confirmed, minInSyncReplicas, ackTimeoutMs) : undefined;
    } catch (error) {
      return this.ctx.translate(error, 'wait for replicas');
    }
  }

  private describeFailure(error: unknown, part: PartitionBatch): BrokerError {
    if (error instanceof Error && error.message.includes(UNKNOWN_PARTITION)) {
      // The topic was deleted (or shrunk by hand) after this producer cached it.
      this.registry.remember(part.topic, undefined);
      return new UnknownTopicError(part.topic, `partition ${part.partition} no longer exists; the topic was deleted, create it again first`);
    }
    return this.ctx.translate(error, `send to partition ${part.partition} of '${part.topic}'`);
  }
}

function validateRecord(record: ProducerRecord): void {
  if (record === null || typeof record !== 'object') {
    throw new InvalidArgumentError("send needs { topic, messages }, e.g. send({ topic: 'orders.created', messages: [{ key, value }] }).");
  }
  assertValidName('topic', record.topic);
  if (!Array.isArray(record.messages)) {
    throw new InvalidArgumentError(`messages for '${record.topic}' must be an array of { key, value, headers }.`);
  }
}

function chunk(batch: PartitionBatch, size: number): PartitionBatch[] {
  if (batch.messages.length <= size) return [batch];
  const parts: PartitionBatch[] = [];
  for (let i = 0; i < batch.messages.length; i += size) parts.push({ ...batch, messages: batch.messages.slice(i, i + size) });
  return parts;
}

/** The cluster's connections to the primaries that serve `keys`; all primaries when the slot map is unknown. */
function primariesFor(cluster: Cluster, keys: string[]) {
  const masters = cluster.nodes('master');
  const slots = (cluster as unknown as { slots?: string[][] }).slots;
  if (!slots) return masters;
  const wanted = new Set(keys.map((key) => slots[slotOf(key)]?.[0]).filter((node): node is string => node !== undefined));
  const chosen = masters.filter((node) => wanted.has(`${node.options.host}:${node.options.port}`));
  return chosen.length > 0 ? chosen : masters;
}
