import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { BrookContext } from '../client/context.js';
import { retryRetriable } from '../client/io-retry.js';
import {
  BrokerError,
  ClosedError,
  DeliveryTimeoutError,
  InvalidArgumentError,
  MessageTooLargeError,
  PartitionOutOfRangeError,
  ProducerQueueFullError,
  UnknownTopicError,
  type ProducerFencedError,
} from '../errors/errors.js';
import type { Message, ProducerRecord, RecordMetadata } from '../message/message.js';
import { encodeMessage, type EncodedMessage } from '../message/wire.js';
import { assertValidName } from '../names/names.js';
import { SendTracing, type SendTrace } from '../tracing/send-tracing.js';
import { withTimeout } from '../redis/request-timeout.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { RedisClient } from '../redis/scripts.js';
import type { TopicConfig } from '../topics/topic.js';
import type { TopicAdmin } from '../topics/topic-admin.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import { PartitionPipeline, type PipelineHost, type ProducerIdentity } from './partition-pipeline.js';
import { Partitioner } from './partitioner.js';
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from './producer.options.js';
import { remainingMs } from './delivery-deadline.js';
import { ReplicaWaiter } from './replica-waiter.js';
import { SendRequest } from './send-request.js';

/** What `sendBatch` takes: several topics in one call. */
export interface ProducerBatch {
  topicMessages: ProducerRecord[];
}

/** Events a producer emits, with their payloads. */
export interface ProducerEvents {
  /**
   * A request failed and is being retried, or Redis was found to have lost writes it had
   * acknowledged (`DataLossError`: a restart from an older snapshot, a failover to a lagging replica).
   */
  'request.error': [{ operation: string; error: BrokerError }];
}

/** An encoded message with its partition, ready to join a batch. */
interface PlacedMessage {
  config: TopicConfig;
  partition: number;
  encoded: EncodedMessage;
  keyless: boolean;
}

/**
 * Publishes messages, idempotently: each partition's messages carry this producer's sequence
 * numbers, so a batch sent again (a lost reply, a retry after a timeout) is recognised by Redis and
 * never appended twice or out of order. Sends made in the same turn of the event loop share one
 * batch per partition; partitions are sent in parallel, one batch in flight per partition.
 */
export class Producer extends EventEmitter<ProducerEvents> {
  readonly options: ResolvedProducerOptions;
  private readonly partitioner = new Partitioner();
  private readonly connection: RedisClient;
  private readonly pipelines = new Map<string, PartitionPipeline>();
  private readonly host: PipelineHost;
  private readonly waiter: ReplicaWaiter | undefined;
  private readonly randomId = randomBytes(8).toString('base64url');
  private identityPromise: Promise<ProducerIdentity> | undefined;
  private fencedBy: ProducerFencedError | undefined;
  private pumpScheduled = false;
  private readonly preparing = new Set<Promise<unknown>>();
  private readonly tracing: SendTracing | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
    private readonly topics: TopicAdmin,
    options?: ProducerOptions,
  ) {
    super();
    this.options = resolveProducerOptions(options);
    this.tracing = SendTracing.create(ctx.options.tracing);
    // WAIT blocks its connection until the replicas answer, so acks: 'all' gets a connection of its own.
    this.connection = this.options.acks === 'all' ? ctx.connect({ name: `${ctx.options.clientId}:producer` }) : ctx.client;
    const { acks, minInSyncReplicas, ackTimeoutMs } = this.options;
    this.waiter =
      acks === 'all'
        ? new ReplicaWaiter(this.connection, minInSyncReplicas, ackTimeoutMs, ctx.options.connection.commandTimeoutMs, (error, operation) => ctx.translate(error, operation))
        : undefined;
    this.host = {
      options: this.options,
      commandTimeoutMs: ctx.options.connection.commandTimeoutMs,
      identity: () => this.identity(),
      append: (input, timeoutMs) => ctx.call(SCRIPTS.produce, input, { client: this.connection, timeoutMs }),
      confirmReplicas: this.waiter === undefined ? undefined : (replicationId) => this.waiter!.confirm(replicationId),
      forgetTopic: (topic) => this.registry.remember(topic, undefined),
      fenced: (error) => this.fence(error),
      report: (operation, error) => this.report(operation, error),
    };
    ctx.track(this);
  }

  /** The id this producer's messages carry (with the epoch, for a stable `producerId`). */
  get producerId(): string {
    return this.options.producerId ?? this.randomId;
  }

  /**
   * Publishes messages to one topic. Resolves with each message's partition and offset, in the
   * order given, once the `acks` level is met. Invalid input rejects before anything is sent.
   * `send<OrderCreated>(…)` checks the values' type.
   */
  async send<V = unknown>(record: ProducerRecord<NoInfer<V>>): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [record] });
  }

  /** Publishes to several topics at once; results follow the order of `topicMessages` and their messages. */
  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    this.assertOpen();
    const deadline = performance.now() + this.options.deliveryTimeoutMs;
    // close() waits for calls that started before it, so they are sent rather than refused.
    const preparing = this.prepare(batch, deadline);
    this.preparing.add(preparing);
    try {
      return await (await preparing).promise;
    } finally {
      this.preparing.delete(preparing);
    }
  }

  /**
   * Appends messages that are already encoded (dead letters re-published to their topic keep their
   * exact bytes, codec and timestamp). Keyed messages go to their key's partition.
   * @internal
   */
  async sendEncoded(topic: string, messages: EncodedMessage[]): Promise<RecordMetadata[]> {
    this.assertOpen();
    const deadline = performance.now() + this.options.deliveryTimeoutMs;
    const config = await this.topicConfig(topic, deadline);
    if (messages.length === 0) return [];
    return this.enqueue(
      deadline,
      messages.map((encoded) => ({ config, partition: this.partitioner.partition(topic, encoded.keyBytes, config.partitions), encoded, keyless: encoded.keyBytes === null })),
    );
  }

  /** Sends what is queued, waits for every batch in flight, and releases the producer's connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.preparing]);
      this.pumpScheduled = false;
      await Promise.all([...this.pipelines.values()].map((pipeline) => drain(pipeline)));
      this.ctx.untrack(this);
      if (this.connection !== this.ctx.client) await this.ctx.disconnect(this.connection);
    })();
    return this.closing;
  }

  private async prepare(batch: ProducerBatch, deadline: number): Promise<{ promise: Promise<RecordMetadata[]> }> {
    if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.topicMessages)) {
      throw new InvalidArgumentError('sendBatch needs { topicMessages: [{ topic, messages }] }.');
    }
    const records = batch.topicMessages;
    for (const record of records) validateRecord(record);
    const configs = await Promise.all(records.map((record) => this.topicConfig(record.topic, deadline)));
    const total = records.reduce((sum, record) => sum + record.messages.length, 0);
    if (total === 0) return { promise: Promise.resolve([]) };
    const traces = this.tracing?.active() ? records.map((record) => this.tracing!.start(record.topic, record.messages.length)) : undefined;
    if (traces === undefined) {
      // Encode and place every message before queueing any, so bad input leaves nothing half-sent.
      return { promise: this.enqueue(deadline, records.flatMap((record, r) => record.messages.map((message) => this.place(configs[r], message)))) };
    }
    let placed: PlacedMessage[];
    try {
      placed = records.flatMap((record, r) => record.messages.map((message) => this.place(configs[r], traces[r]?.withContext(message) ?? message)));
    } catch (error) {
      for (const trace of traces) trace?.failed(error);
      throw error;
    }
    return { promise: traced(this.enqueue(deadline, placed), records, traces) };
  }

  private enqueue(deadline: number, placed: PlacedMessage[]): Promise<RecordMetadata[]> {
    if (this.fencedBy !== undefined) return Promise.reject(this.fencedBy);
    const bytes = placed.reduce((sum, item) => sum + item.encoded.sizeBytes, 0);
    const queued = this.queuedBytes();
    if (queued > 0 && queued + bytes > this.options.maxQueuedBytes) return Promise.reject(new ProducerQueueFullError(queued, this.options.maxQueuedBytes));
    const request = new SendRequest(placed.length);
    placed.forEach((item, index) => {
      this.pipeline(item.config, item.partition).add({ request, index, encoded: item.encoded, deadline });
      if (item.keyless) this.partitioner.keylessQueued(item.config.topic);
    });
    this.schedulePump();
    if (this.options.acks === 'none') {
      request.promise.catch((error: unknown) => this.ctx.logger.warn(`Messages were not written (acks: 'none')`, { error: String(error) }));
      placed.forEach((item, index) =>
        request.landed(index, { topic: item.config.topic, partition: item.partition, offset: -1, timestamp: item.encoded.timestamp ?? -1 }),
      );
    }
    return request.promise;
  }

  private pipeline(config: TopicConfig, partition: number): PartitionPipeline {
    const key = `${config.topic}\u0000${partition}`;
    let pipeline = this.pipelines.get(key);
    if (pipeline === undefined) {
      pipeline = new PartitionPipeline(
        { topic: config.topic, partition, maxLen: config.retention.maxMessages ?? 0, timeIndex: config.retention.maxAgeMs !== null },
        this.host,
      );
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  private queuedBytes(): number {
    let bytes = 0;
    for (const pipeline of this.pipelines.values()) bytes += pipeline.queuedBytes;
    return bytes;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // setImmediate rather than a microtask: sends that awaited cached metadata in this turn of the
    // event loop still join the same batch.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.partitioner.batchesCut();
      // Pipelines are kept for the producer's lifetime: each carries the partition's sequence.
      for (const pipeline of this.pipelines.values()) void pipeline.pump();
    });
  }

  /** The producer's id and epoch; a stable producerId takes the next epoch once, fencing older instances. */
  private identity(): Promise<ProducerIdentity> {
    if (this.identityPromise === undefined) {
      const { producerId } = this.options;
      this.identityPromise =
        producerId === null
          ? Promise.resolve({ producerId: this.randomId, epoch: 0 })
          : this.ctx
              .run(`register producer '${producerId}'`, () => this.ctx.client.hincrby(this.ctx.keys.producerEpochs(), producerId, 1))
              .then((epoch) => ({ producerId, epoch }));
      this.identityPromise.catch(() => (this.identityPromise = undefined));
    }
    return this.identityPromise;
  }

  private fence(error: ProducerFencedError): void {
    if (this.fencedBy !== undefined) return;
    this.fencedBy = error;
    this.ctx.logger.error(error.message);
    for (const pipeline of this.pipelines.values()) pipeline.failPending(error);
  }

  private report(operation: string, error: BrokerError): void {
    if (error.code === 'DATA_LOSS') this.ctx.logger.error(error.message);
    else this.ctx.logger.debug(`Could not ${operation}; retrying`, { error: error.message });
    this.emit('request.error', { operation, error });
  }

  private assertOpen(): void {
    this.ctx.assertOpen('producer');
    if (this.closing !== undefined) throw new ClosedError('producer');
  }

  /**
   * The topic's configuration. While Redis is unreachable a known topic keeps its last
   * configuration (the produce script refuses partitions that no longer exist); an unknown one is
   * looked up again until the send's deadline.
   */
  private async topicConfig(topic: string, deadline: number): Promise<TopicConfig> {
    const config = this.registry.peek(topic) ?? (await this.lookUp(topic, deadline));
    if (config !== undefined) return config;
    if (!this.options.allowAutoTopicCreation) {
      throw new UnknownTopicError(topic, `create it with admin.createTopic({ topic: '${topic}', partitions }) or create the producer with allowAutoTopicCreation: true`);
    }
    await this.topics.createTopic({ topic, partitions: this.options.autoTopicPartitions });
    const created = await this.registry.get(topic, { fresh: true });
    if (created === undefined) throw new UnknownTopicError(topic);
    return created;
  }

  private async lookUp(topic: string, deadline: number): Promise<TopicConfig | undefined> {
    let lastError: BrokerError | undefined;
    const found = await retryRetriable(
      () => withTimeout(this.registry.get(topic), remainingMs(deadline, this.ctx.options.connection.commandTimeoutMs), `read topic '${topic}'`),
      {
        operation: `read topic '${topic}'`,
        initialBackoffMs: 50,
        maxBackoffMs: 1_000,
        shouldStop: () => lastError !== undefined && (performance.now() >= deadline || this.registry.stale(topic) !== undefined),
        onRetry: (error) => {
          lastError = error;
          this.report(`read topic '${topic}'`, error);
        },
      },
    );
    if (found !== undefined || lastError === undefined) return found;
    return this.registry.stale(topic) ?? Promise.reject(new DeliveryTimeoutError(topic, this.options.deliveryTimeoutMs, false, { cause: lastError }));
  }

  private place(config: TopicConfig, message: Message): PlacedMessage {
    const encoded = encodeMessage(config.topic, message, this.options.codec);
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
    return { config, partition, encoded, keyless: encoded.keyBytes === null && message.partition == null };
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

/** Ends each record's send span once its messages landed (or failed), passing the results through. */
function traced(promise: Promise<RecordMetadata[]>, records: readonly ProducerRecord[], traces: ReadonlyArray<SendTrace | undefined>): Promise<RecordMetadata[]> {
  return promise.then(
    (results) => {
      let start = 0;
      records.forEach((record, r) => {
        traces[r]?.landed(results.slice(start, start + record.messages.length));
        start += record.messages.length;
      });
      return results;
    },
    (error: unknown) => {
      for (const trace of traces) trace?.failed(error);
      throw error;
    },
  );
}

/** Pumps a pipeline until nothing is queued or in flight. */
async function drain(pipeline: PartitionPipeline): Promise<void> {
  while (!pipeline.idle) await pipeline.pump();
}
