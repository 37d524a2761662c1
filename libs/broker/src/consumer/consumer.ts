import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { assertInteger } from '../client/brook.options.js';
import type { BrookContext } from '../client/context.js';
import { GroupKindConflictError, InvalidArgumentError, UnknownTopicError } from '../errors/errors.js';
import { assertValidName } from '../names/names.js';
import { ConnectionWatch } from '../redis/connection-watch.js';
import { SCRIPTS } from '../redis/script-table.js';
import { WriteCoalescer } from '../redis/write-coalescer.js';
import type { RedisClient } from '../redis/scripts.js';
import { nodeServing, slotOf } from '../redis/topology.js';
import { mergeRetryOptions, resolveRetryPolicy } from '../retry/retry.options.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import { ProcessTracing } from '../tracing/process-tracing.js';
import type { ConsumerEvents } from './consumer.events.js';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions, type SubscribeOptions } from './consumer.options.js';
import { BlockingFetcher } from './fetcher.js';
import { GroupHeartbeat, type SubscribedTopic } from './group-heartbeat.js';
import { BatchRunner } from './batch-runner.js';
import { HandlerRunner } from './handler-runner.js';
import type { Ordering } from './lanes.js';
import { resolveRunMode, type RunOptions } from './run-options.js';
import { LeaseRenewer } from './lease-renewer.js';
import { Ownership } from './ownership.js';
import { PartitionWorker, type WorkerEvents } from './partition-worker.js';
import { PollingFetcher } from './polling-fetcher.js';
import { RebalanceNotes } from './rebalance-notes.js';
import { RollbackDetector } from './rollback-detector.js';
import { Semaphore } from './semaphore.js';
import { groupByTopic, parsePartitionKey, partitionKey, type TopicPartitions } from './topic-partition.js';

type Status = 'idle' | 'running' | 'stopping' | 'stopped';

/** One subscribed topic and its own settings. */
type Subscription = Omit<SubscribeOptions, 'topic' | 'topics'> & { fromBeginning: boolean };

/** The parts of a running consumer. */
interface Session {
  ownership: Ownership;
  heartbeat: GroupHeartbeat;
  renewer: LeaseRenewer;
  fetcher: BlockingFetcher | PollingFetcher;
  fetchConnection: RedisClient | undefined;
  watch: ConnectionWatch;
}

/**
 * A member of a consumer group. Members heartbeat into the group; the group's partitions are
 * spread over the live members, each partition owned by exactly one of them under a lease whose
 * fencing token every read and state change must present.
 *
 * ```ts
 * const consumer = brook.consumer({ group: 'billing' });
 * await consumer.subscribe({ topic: 'orders.created', fromBeginning: true });
 * await consumer.run({ eachMessage: async ({ message }) => charge(message.value) });
 * ```
 */
export class Consumer extends EventEmitter<ConsumerEvents> {
  readonly options: ResolvedConsumerOptions;
  readonly group: string;
  /** Unique per consumer instance; the first part of its fencing tokens. */
  readonly memberId: string;
  private status: Status = 'idle';
  private readonly subscriptions = new Map<string, Subscription>();
  private session: Session | undefined;
  private origins = new Map<string, number>();
  private generation = -1;
  private readonly pausedKeys = new Set<string>();
  private readonly pausedTopics = new Set<string>();
  private readonly pendingSeeks = new Map<string, number>();
  private readonly missingTopics = new Set<string>();
  private readonly notes = new RebalanceNotes((change) => this.emit('rebalance', change));
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
    options: ConsumerOptions,
  ) {
    super();
    this.options = resolveConsumerOptions(options);
    this.group = this.options.group;
    this.memberId = `${ctx.options.clientId}-${randomUUID()}`;
    ctx.track(this);
  }

  /** Adds topics to consume. Call before `run`; the topics must exist. */
  async subscribe(subscription: SubscribeOptions): Promise<void> {
    if (this.status !== 'idle') throw new InvalidArgumentError('subscribe() must be called before run(); create another consumer to read more topics.');
    if (subscription === null || typeof subscription !== 'object') {
      throw new InvalidArgumentError("subscribe needs { topic } or { topics }, e.g. subscribe({ topic: 'orders.created', fromBeginning: true }).");
    }
    const topics = [...(subscription.topic !== undefined ? [subscription.topic] : []), ...(subscription.topics ?? [])];
    if (topics.length === 0) throw new InvalidArgumentError('subscribe needs { topic } or a non-empty { topics }.');
    if (subscription.fromBeginning !== undefined && typeof subscription.fromBeginning !== 'boolean') {
      throw new InvalidArgumentError('fromBeginning must be a boolean.');
    }
    for (const topic of topics) assertValidName('topic', topic);
    // Checked now so a bad policy fails here rather than at run().
    resolveRetryPolicy(subscription.retry, subscription.deadLetter);
    if (subscription.handlerName !== undefined) assertHandlerName(subscription.handlerName);
    for (const topic of topics) {
      if ((await this.registry.get(topic, { fresh: true })) === undefined) throw new UnknownTopicError(topic);
      const { retry, deadLetter, handlerName } = subscription;
      this.subscriptions.set(topic, { fromBeginning: subscription.fromBeginning ?? false, retry, deadLetter, handlerName });
    }
  }

  /** Joins the group and starts processing; resolves once the member has joined. */
  async run(options: RunOptions): Promise<void> {
    if (this.status !== 'idle') throw new InvalidArgumentError('run() was already called on this consumer; create a new one to run again.');
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('run needs { eachMessage: async ({ topic, partition, message }) => { … } }.');
    }
    const { ordering, concurrency } = resolveRunMode(options);
    if (this.subscriptions.size === 0) throw new InvalidArgumentError('Subscribe to at least one topic before run().');
    const handler = options.eachMessage ?? options.eachBatch!;
    const defaultHandlerName = options.handlerName ?? (handler.name || (options.eachMessage ? 'eachMessage' : 'eachBatch'));
    assertHandlerName(defaultHandlerName);
    const tracing = ProcessTracing.create(this.ctx.options.tracing, this.group);
    const perTopic = new Map(
      [...this.subscriptions].map(([topic, sub]) => {
        const policy = resolveRetryPolicy(mergeRetryOptions(options.retry, sub.retry), { ...options.deadLetter, ...sub.deadLetter });
        const runner = options.eachMessage === undefined ? undefined : new HandlerRunner(options.eachMessage, this.options.codec, policy, tracing);
        const batch = options.eachBatch === undefined ? undefined : new BatchRunner(options.eachBatch, this.options.codec, policy, tracing);
        return [topic, { policy, runner, batch, handlerName: sub.handlerName ?? defaultHandlerName }] as const;
      }),
    );
    this.ctx.assertOpen('consumer');
    this.status = 'running';
    await this.ctx.ready();
    const registered = await this.ctx.call(SCRIPTS.registerGroup, { group: this.group, kind: 'exclusive', topics: [...this.subscriptions.keys()] });
    if (registered.status === 'kind') {
      this.status = 'stopped';
      throw new GroupKindConflictError(this.group, registered.existing, 'exclusive');
    }
    this.session = this.startSession(new Semaphore(concurrency), { ordering, concurrency }, perTopic);
    try {
      await this.session.heartbeat.start();
    } catch (error) {
      await this.stop();
      throw this.ctx.translate(error, `join group '${this.group}'`);
    }
  }

  /** Stops fetching the given partitions (all of a topic when `partitions` is omitted) after the message in flight. */
  pause(topicPartitions: Array<{ topic: string; partitions?: number[] }>): void {
    this.setPaused(topicPartitions, true);
  }

  /** Resumes paused partitions. */
  resume(topicPartitions: Array<{ topic: string; partitions?: number[] }>): void {
    this.setPaused(topicPartitions, false);
  }

  /** Paused partitions, and topics paused as a whole (with every partition this member owns). */
  paused(): TopicPartitions[] {
    const keys = new Set(this.pausedKeys);
    for (const worker of this.session?.ownership.workers() ?? []) {
      if (this.pausedTopics.has(worker.topic)) keys.add(partitionKey(worker.topic, worker.partition));
    }
    return groupByTopic([...keys].map(parsePartitionKey));
  }

  /**
   * Moves the group's position on a partition so the next message read is `offset`. Applied now
   * when this member owns the partition, otherwise as soon as it acquires it.
   */
  async seek({ topic, partition, offset }: { topic: string; partition: number; offset: number }): Promise<void> {
    assertValidName('topic', topic);
    assertInteger('partition', partition, 0);
    assertInteger('offset', offset, 0);
    if (!this.subscriptions.has(topic)) throw new InvalidArgumentError(`seek: this consumer is not subscribed to '${topic}'.`);
    if (this.session === undefined) this.pendingSeeks.set(partitionKey(topic, partition), offset);
    else await this.session.ownership.seek({ topic, partition }, offset);
  }

  /**
   * Stops fetching, lets handlers in flight finish, acknowledges what they processed, releases the
   * partitions and leaves the group, so other members take over at once. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** Same as `stop()`; called by `brook.close()`. */
  close(): Promise<void> {
    return this.stop();
  }

  private startSession(
    slots: Semaphore,
    mode: { ordering: Ordering; concurrency: number },
    perTopic: Map<string, { policy: ReturnType<typeof resolveRetryPolicy>; runner: HandlerRunner | undefined; batch: BatchRunner | undefined; handlerName: string }>,
  ): Session {
    const { ctx, group, memberId, options } = this;
    const reportError = (operation: string, error: unknown) => this.reportError(operation, error);
    const fetchConnection = ctx.client instanceof Cluster ? undefined : ctx.connect({ name: `${ctx.options.clientId}:fetch` });
    const fetcher =
      fetchConnection === undefined
        ? new PollingFetcher(ctx, { group, pollIntervalMs: options.pollIntervalMs, reportError })
        : new BlockingFetcher(ctx, fetchConnection, { group, memberId, maxWaitTimeMs: options.maxWaitTimeMs, maxBytes: options.maxBytes, reportError });
    const events: Omit<WorkerEvents, 'skipped' | 'lastRead' | 'lost'> = {
      retry: (event) => this.emit('retry', event),
      deadLetter: (event) => this.emit('dead-letter', event),
      reportError,
      crash: (error) => this.crash(error),
    };
    const rollbacks = new RollbackDetector(ctx, group, reportError);
    const writes = new WriteCoalescer(ctx.client);
    const ownership = new Ownership(ctx, {
      group,
      memberId,
      leaseMs: options.sessionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      startIdFor: ({ topic, partition }) => {
        const origin = this.origins.get(topic);
        // Partitions added after the group first subscribed hold only messages newer than its start.
        if (origin !== undefined && partition >= origin) return '0';
        return this.subscriptions.get(topic)?.fromBeginning ? '0' : '$';
      },
      createWorker: (store, lease, lastDeliveredSeq) => {
        const { topic, partition } = store.ref;
        const settings = perTopic.get(topic)!;
        const worker: PartitionWorker = new PartitionWorker(
          {
            store,
            lease,
            ...settings,
            ...mode,
            slots,
            fetcher,
            writes,
            maxBatchSize: options.maxBatchSize,
            maxBytesPerPartition: options.maxBytesPerPartition,
            controls: {
              heartbeat: () => Promise.all([session.heartbeat.beatNow(), session.renewer.renewNow()]).then(() => undefined),
              pause: () => {
                this.pause([{ topic, partitions: [partition] }]);
                return () => this.resume([{ topic, partitions: [partition] }]);
              },
            },
            events: {
              ...events,
              skipped: (range) => this.emit('skipped', { topic, partition, reason: 'retention', ...range }),
              lastRead: (offset, messageId) => rollbacks.read({ topic, partition }, offset, messageId),
              lost: (reason) => this.session?.ownership.workerLost(worker, reason),
            },
          },
          lastDeliveredSeq,
          this.isPaused(partitionKey(topic, partition)),
        );
        return worker;
      },
      rollbacks,
      pendingSeeks: this.pendingSeeks,
      fetcher,
      onAssigned: (tp) => this.notes.add('assigned', tp),
      onRevoked: (tp) => this.notes.add('revoked', tp),
      onLost: (tp, reason) => this.emit('partition.lost', { ...tp, reason }),
      topicGone: (topic) => this.topicGone(topic),
      reportError,
    });
    const heartbeat = new GroupHeartbeat(ctx, {
      group,
      memberId,
      sessionTimeoutMs: options.sessionTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      topics: () => this.subscribedTopics(),
      onAssignment: (reply) => {
        this.origins = reply.origins;
        if (reply.generation !== this.generation) {
          this.generation = reply.generation;
          this.emit('group.join', { group, memberId, generation: reply.generation, members: reply.members, assigned: groupByTopic(reply.owned.map(parsePartitionKey)) });
        }
        ownership.assign(reply.owned);
      },
      reportError,
    });
    const renewer = new LeaseRenewer(ctx, group, options.sessionTimeoutMs, options.heartbeatIntervalMs, () => ownership.held(), reportError);
    // A dropped connection puts everything in flight on it in doubt: the workers of the partitions
    // it served acknowledge nothing more and the partitions are taken again with new tokens.
    const watch = new ConnectionWatch(ctx.client);
    watch.on('lost', ({ node }) => {
      ownership.resync((tp) => node === undefined || nodeServing(ctx.client, ctx.keys.log(tp.topic, tp.partition)) === node);
    });
    // A primary that froze and was failed over drops no connection: the slot map shows it.
    watch.on('promoted', ({ from, to, slots }) => {
      ctx.logger.warn(`Redis Cluster node ${to} took over ${slots.size} slot(s) from ${from} (a failover); the consumer of group '${group}' takes the partitions on them again`);
      ownership.resync((tp) => slots.has(slotOf(ctx.keys.log(tp.topic, tp.partition))));
      void rollbacks.checkAll();
    });
    watch.on('restored', ({ node, serverChanged }) => {
      if (!serverChanged) return;
      ctx.logger.warn(`Redis${node === undefined ? '' : ` ${node}`} is another server process now (a restart or a failover); the consumer of group '${group}' takes its partitions again`);
      void rollbacks.checkAll();
    });
    const session: Session = { ownership, heartbeat, renewer, fetcher, fetchConnection, watch };
    fetcher.start();
    renewer.start();
    return session;
  }

  /** The subscribed topics that exist, for the heartbeat; a subscribed topic that vanished is reported once. */
  private async subscribedTopics(): Promise<SubscribedTopic[]> {
    const topics: SubscribedTopic[] = [];
    for (const topic of this.subscriptions.keys()) {
      const config = await this.registry.get(topic);
      if (config === undefined) {
        if (!this.missingTopics.has(topic)) {
          this.missingTopics.add(topic);
          this.reportError(`consume '${topic}'`, new UnknownTopicError(topic, 'it was deleted while this consumer was subscribed to it; create it again (the consumer resumes it), or stop the consumer'));
        }
        continue;
      }
      this.missingTopics.delete(topic);
      topics.push({ topic, partitions: config.partitions, createdAt: config.createdAt });
    }
    return topics;
  }

  /** A partition's log is gone: read the topic again and heartbeat, so the assignment follows what exists now. */
  private topicGone(topic: string): void {
    void this.registry
      .get(topic, { fresh: true })
      .then(() => this.session?.heartbeat.beatNow())
      .catch((error: unknown) => this.reportError(`read topic '${topic}'`, error));
  }

  private async shutdown(): Promise<void> {
    const session = this.session;
    this.status = 'stopping';
    if (session !== undefined) {
      session.heartbeat.stop();
      await session.fetcher.stop();
      await session.ownership.releaseAll();
      session.renewer.stop();
      await session.heartbeat.leave().catch((error: unknown) => this.reportError(`leave group '${this.group}'`, error));
      session.watch.close();
      if (session.fetchConnection) await this.ctx.disconnect(session.fetchConnection);
    }
    this.status = 'stopped';
    this.ctx.untrack(this);
    this.notes.flush();
    this.emit('stop');
  }

  private crash(error: unknown): void {
    this.ctx.logger.error(`Consumer of group '${this.group}' crashed`, { error: String(error) });
    this.emit('crash', { error });
    void this.stop();
  }

  private setPaused(topicPartitions: Array<{ topic: string; partitions?: number[] }>, paused: boolean): void {
    if (!Array.isArray(topicPartitions)) throw new InvalidArgumentError('pause/resume take [{ topic, partitions? }].');
    for (const { topic, partitions } of topicPartitions) {
      assertValidName('topic', topic);
      if (partitions === undefined) {
        if (paused) this.pausedTopics.add(topic);
        else {
          this.pausedTopics.delete(topic);
          for (const key of [...this.pausedKeys]) if (parsePartitionKey(key).topic === topic) this.pausedKeys.delete(key);
        }
      } else {
        for (const partition of partitions) {
          assertInteger('partition', partition, 0);
          const key = partitionKey(topic, partition);
          if (paused) this.pausedKeys.add(key);
          else this.pausedKeys.delete(key);
        }
      }
    }
    for (const worker of this.session?.ownership.workers() ?? []) worker.setPaused(this.isPaused(partitionKey(worker.topic, worker.partition)));
  }

  private isPaused(key: string): boolean {
    return this.pausedKeys.has(key) || this.pausedTopics.has(parsePartitionKey(key).topic);
  }

  private reportError(operation: string, error: unknown): void {
    const translated = this.ctx.translate(error, operation);
    if (translated.code === 'DATA_LOSS') this.ctx.logger.error(translated.message);
    else this.ctx.logger.debug(`Consumer of group '${this.group}' could not ${operation}; retrying`, { error: translated.message });
    this.emit('request.error', { operation, error: translated });
    // Retrying cannot help until an operator grants the permission: stop rather than spin.
    if (translated.code === 'NO_PERMISSION' && this.status === 'running') this.crash(translated);
  }
}

function assertHandlerName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new InvalidArgumentError('handlerName must be a string of 1 to 200 characters.');
  }
}
