import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { assertInteger } from '../client/brook.options.js';
import type { BrookContext } from '../client/context.js';
import type { Codec } from '../codec/codec.js';
import { InvalidArgumentError, UnknownTopicError } from '../errors/errors.js';
import { assertValidName } from '../names/names.js';
import { runScript, type RedisClient } from '../redis/scripts.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import type { ConsumerEvents } from './consumer.events.js';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions, type SubscribeOptions } from './consumer.options.js';
import { Fetcher } from './fetcher.js';
import { GroupMembership } from './membership.js';
import { acquireLease, releaseLease, renewLeases } from './partition-leases.js';
import type { EachMessageHandler } from './message-payload.js';
import { PartitionWorker, type LossReason, type TopicSettings, type WorkerHost } from './partition-worker.js';
import { mergeRetryOptions, resolveRetryPolicy, type DeadLetterOptions, type RetryOptions } from './retry.options.js';
import { Semaphore } from './semaphore.js';
import { groupByTopic, parsePartitionKey, partitionKey, type TopicPartition, type TopicPartitions } from './topic-partition.js';

/** What `run` takes. */
export interface RunOptions {
  /** Called for every message, one at a time per partition, in offset order. */
  eachMessage: EachMessageHandler;
  /** How many partitions may run handlers at the same time. @defaultValue `1` */
  partitionsConsumedConcurrently?: number;
  /** How failing messages are retried: attempts, backoff, blocking or not, handler timeout. */
  retry?: RetryOptions;
  /** Dead-lettering of messages whose retries ran out or cannot help. */
  deadLetter?: DeadLetterOptions;
  /** Names the handler in dead letters. @defaultValue the function's name, or `'eachMessage'` */
  handlerName?: string;
}

type Status = 'idle' | 'running' | 'stopping' | 'stopped';

/** One subscribed topic and its own settings. */
type Subscription = Omit<SubscribeOptions, 'topic' | 'topics'> & { fromBeginning: boolean };

interface Releasing {
  worker: PartitionWorker;
  done: Promise<void>;
}

/**
 * A member of a consumer group. Members heartbeat into the group; the group's partitions are
 * spread over the live members, each partition owned by exactly one of them under a lease that
 * fences every acknowledgement.
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
  /** Unique per consumer instance; also its Redis consumer name. */
  readonly memberId: string;
  private status: Status = 'idle';
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly membership: GroupMembership;
  private fetcher: Fetcher | undefined;
  private blocking: RedisClient | undefined;
  private host: WorkerHost | undefined;
  private readonly workers = new Map<string, PartitionWorker>();
  private readonly releasing = new Map<string, Releasing>();
  private readonly acquiring = new Map<string, NodeJS.Timeout | null>();
  private assigned = new Set<string>();
  private origins = new Map<string, number>();
  private generation = -1;
  private readonly pausedKeys = new Set<string>();
  private readonly pausedTopics = new Set<string>();
  private readonly pendingSeeks = new Map<string, number>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private changes = { assigned: [] as TopicPartition[], revoked: [] as TopicPartition[], scheduled: false };
  private connectionDown = false;
  private readonly onConnectionError = (error: Error) => {
    // Commands wait in the client's queue while it reconnects; say so at once rather than when one gives up.
    if (this.connectionDown || !this.isRunning) return;
    this.connectionDown = true;
    this.reportError('reach Redis', error);
  };
  private readonly onConnectionReady = () => {
    this.connectionDown = false;
    this.resyncPartitions();
  };

  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
    options: ConsumerOptions,
  ) {
    super();
    this.options = resolveConsumerOptions(options);
    this.group = this.options.group;
    this.memberId = `${ctx.options.clientId}-${randomUUID()}`;
    this.membership = new GroupMembership(ctx, this.group, this.memberId, this.options.sessionTimeoutMs);
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
    if (options === null || typeof options !== 'object' || typeof options.eachMessage !== 'function') {
      throw new InvalidArgumentError('run needs { eachMessage: async ({ topic, partition, message }) => { … } }.');
    }
    if (this.subscriptions.size === 0) throw new InvalidArgumentError('Subscribe to at least one topic before run().');
    const concurrency = options.partitionsConsumedConcurrently ?? 1;
    assertInteger('partitionsConsumedConcurrently', concurrency, 1, 10_000);
    const handlerName = options.handlerName ?? (options.eachMessage.name || 'eachMessage');
    assertHandlerName(handlerName);
    const settings = new Map(
      [...this.subscriptions].map(([topic, sub]) => [
        topic,
        {
          policy: resolveRetryPolicy(mergeRetryOptions(options.retry, sub.retry), { ...options.deadLetter, ...sub.deadLetter }),
          handlerName: sub.handlerName ?? handlerName,
        },
      ]),
    );
    this.ctx.assertOpen('consumer');
    this.status = 'running';

    await this.ctx.ready();
    await this.ctx.run(`register group '${this.group}'`, () =>
      runScript(this.ctx.client, 'register-group', [this.ctx.keys.groups()], [this.group, ...this.subscriptions.keys()]),
    );
    this.blocking = this.ctx.client instanceof Cluster ? undefined : this.ctx.connect({ name: `${this.ctx.options.clientId}:fetch` });
    this.fetcher = new Fetcher(this.ctx, this.fetcherHost(), this.blocking);
    this.host = this.workerHost(options.eachMessage, settings, new Semaphore(concurrency));
    this.ctx.client.on('error', this.onConnectionError);
    this.ctx.client.on('ready', this.onConnectionReady);
    this.fetcher.start();
    try {
      await this.heartbeatNow();
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
    for (const key of this.workers.keys()) if (this.pausedTopics.has(parsePartitionKey(key).topic)) keys.add(key);
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
    const key = partitionKey(topic, partition);
    const worker = this.workers.get(key);
    if (worker === undefined) {
      this.pendingSeeks.set(key, offset);
      return;
    }
    await worker.seek(offset);
  }

  /**
   * Stops fetching, lets handlers in flight finish, acknowledges what they processed, releases the
   * partitions and leaves the group, so other members take over at once. Idempotent.
   */
  stop(): Promise<void> {
    if (this.stopping === undefined) this.stopping = this.shutdown();
    return this.stopping;
  }

  /** Same as `stop()`; called by `brook.close()`. */
  close(): Promise<void> {
    return this.stop();
  }

  private async shutdown(): Promise<void> {
    const wasRunning = this.status === 'running';
    this.status = 'stopping';
    clearTimeout(this.heartbeatTimer);
    for (const timer of this.acquiring.values()) if (timer) clearTimeout(timer);
    this.acquiring.clear();
    if (wasRunning) {
      await this.beating?.catch(() => undefined);
      await this.fetcher?.stop();
      for (const key of [...this.workers.keys()]) this.revoke(key);
      await Promise.all([...this.releasing.values()].map(({ done }) => done));
      await this.membership.leave().catch((error: unknown) => this.reportError(`leave group '${this.group}'`, error));
      if (this.blocking) await this.ctx.disconnect(this.blocking);
    }
    this.ctx.client.off('error', this.onConnectionError);
    this.ctx.client.off('ready', this.onConnectionReady);
    this.status = 'stopped';
    this.ctx.untrack(this);
    this.flushRebalance();
    this.emit('stop');
  }

  private get isRunning(): boolean {
    return this.status === 'running';
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
    for (const [key, worker] of this.workers) worker.setPaused(this.isPaused(key));
  }

  private isPaused(key: string): boolean {
    return this.pausedKeys.has(key) || this.pausedTopics.has(parsePartitionKey(key).topic);
  }

  /** Runs a heartbeat now, or joins the one in flight. */
  private heartbeatNow(): Promise<void> {
    if (this.beating === undefined) {
      clearTimeout(this.heartbeatTimer);
      this.beating = this.beat().finally(() => {
        this.beating = undefined;
      });
    }
    return this.beating;
  }

  private scheduleHeartbeat(delayMs: number): void {
    if (!this.isRunning) return;
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatNow().catch((error: unknown) => {
        this.reportError(`heartbeat in group '${this.group}'`, error);
        this.scheduleHeartbeat(this.options.heartbeatIntervalMs);
      });
    }, delayMs);
  }

  private async beat(): Promise<void> {
    if (!this.isRunning) return;
    const counts = new Map<string, number>();
    for (const topic of this.subscriptions.keys()) {
      const config = await this.registry.get(topic);
      if (config !== undefined) counts.set(topic, config.partitions);
    }
    const result = await this.membership.heartbeat(counts);
    this.origins = result.origins;

    const held = [...this.workers.values(), ...[...this.releasing.values()].map(({ worker }) => worker)].filter((worker) => !worker.lost);
    const sentAt = performance.now();
    const renewed = await renewLeases(this.ctx, this.group, this.memberId, this.options.sessionTimeoutMs, held);
    held.forEach((worker, i) => (renewed[i].renewed ? worker.leaseRenewed(sentAt, renewed[i].nextDueMs) : worker.lose('fenced')));
    if (!this.isRunning) return;

    this.assigned = new Set(result.assigned.map(({ topic, partition }) => partitionKey(topic, partition)));
    if (result.generation !== this.generation) {
      this.generation = result.generation;
      this.emit('group.join', { group: this.group, memberId: this.memberId, generation: result.generation, members: result.members, assigned: groupByTopic(result.assigned) });
    }
    for (const key of [...this.workers.keys()]) if (!this.assigned.has(key)) this.revoke(key);
    for (const key of this.assigned) this.acquire(key);

    // Beat again right after another member's session ends, so its partitions move without delay.
    const next = result.msUntilNextExpiry >= 0 ? Math.min(this.options.heartbeatIntervalMs, result.msUntilNextExpiry + 5) : this.options.heartbeatIntervalMs;
    this.scheduleHeartbeat(Math.max(next, 5));
  }

  private acquire(key: string): void {
    if (this.workers.has(key) || this.releasing.has(key) || this.acquiring.has(key) || !this.isRunning) return;
    this.acquiring.set(key, null);
    void this.tryAcquire(key);
  }

  private async tryAcquire(key: string): Promise<void> {
    const retry = (delayMs: number) => this.acquiring.set(key, setTimeout(() => void this.tryAcquire(key), delayMs));
    if (!this.isRunning || !this.assigned.has(key)) {
      this.acquiring.delete(key);
      return;
    }
    const tp = parsePartitionKey(key);
    const origin = this.origins.get(tp.topic);
    // Partitions added after the group first subscribed hold only messages newer than its start.
    const startId = origin !== undefined && tp.partition >= origin ? '0' : this.subscriptions.get(tp.topic)?.fromBeginning ? '0' : '$';
    const sentAt = performance.now();
    let result;
    try {
      result = await acquireLease(this.ctx, this.group, this.memberId, this.options.sessionTimeoutMs, tp, startId);
    } catch (error) {
      this.reportError(`acquire partition ${tp.partition} of '${tp.topic}'`, error);
      retry(this.options.heartbeatIntervalMs);
      return;
    }
    if (result.status === 'held') {
      // The previous owner is draining or its lease is about to expire.
      retry(Math.min(Math.max(result.msUntilExpiry + 2, 10), 100));
      return;
    }
    if (result.status === 'gone') {
      retry(this.options.heartbeatIntervalMs * 5);
      return;
    }
    this.acquiring.delete(key);
    if (!this.isRunning || !this.assigned.has(key)) {
      await releaseLease(this.ctx, this.group, this.memberId, tp).catch((error: unknown) => this.reportError('release a partition', error));
      return;
    }
    let lastReadSeq = result.lastDeliveredSeq;
    const seek = this.pendingSeeks.get(key);
    if (seek !== undefined) {
      this.pendingSeeks.delete(key);
      try {
        const moved = await runScript<number>(this.ctx.client, 'reset-offset', [this.ctx.keys.log(tp.topic, tp.partition), this.ctx.keys.lease(tp.topic, tp.partition, this.group)], [this.group, seek, this.memberId, '0']);
        if (moved === 1) lastReadSeq = seek;
      } catch (error) {
        this.reportError(`seek partition ${tp.partition} of '${tp.topic}'`, error);
      }
    }
    const worker = new PartitionWorker(this.host!, tp.topic, tp.partition, lastReadSeq, sentAt, this.isPaused(key));
    this.workers.set(key, worker);
    this.fetcher!.add(worker);
    worker.start();
    this.noteChange('assigned', tp);
  }

  /** Hands a partition back: drain, then release the lease; re-acquires it if it was assigned back meanwhile. */
  private revoke(key: string): void {
    const worker = this.workers.get(key);
    if (worker === undefined) return;
    this.workers.delete(key);
    const done = (async () => {
      await worker.drain();
      this.fetcher?.remove(worker);
      if (!worker.lost) {
        await releaseLease(this.ctx, this.group, this.memberId, worker).catch((error: unknown) =>
          this.reportError(`release partition ${worker.partition} of '${worker.topic}'`, error),
        );
        this.noteChange('revoked', worker);
      }
    })().finally(() => {
      this.releasing.delete(key);
      if (this.isRunning && this.assigned.has(key)) this.acquire(key);
    });
    this.releasing.set(key, { worker, done });
  }

  /**
   * The command connection came back (every 'ready' after `run` is a reconnect). What was in flight
   * is in doubt: an acknowledgement a demoted primary accepted after a failover is gone, leaving a
   * message pending behind the worker's position. (A read whose reply was lost needs no help: the
   * next fetch returns it again.) Handing each partition back and taking it again claims this
   * member's own pending messages through the usual takeover, in offset order; only those are
   * delivered again.
   */
  private resyncPartitions(): void {
    if (!this.isRunning) return;
    for (const key of [...this.workers.keys()]) this.revoke(key);
  }

  private onLost(worker: PartitionWorker, reason: LossReason): void {
    const key = partitionKey(worker.topic, worker.partition);
    if (this.workers.get(key) === worker) this.workers.delete(key);
    this.fetcher?.remove(worker);
    this.emit('partition.lost', { topic: worker.topic, partition: worker.partition, reason });
    this.noteChange('revoked', worker);
    if (this.isRunning && this.assigned.has(key)) this.acquire(key);
  }

  private noteChange(kind: 'assigned' | 'revoked', { topic, partition }: TopicPartition): void {
    this.changes[kind].push({ topic, partition });
    if (this.changes.scheduled) return;
    this.changes.scheduled = true;
    setImmediate(() => this.flushRebalance());
  }

  private flushRebalance(): void {
    if (!this.changes.scheduled) return;
    const { assigned, revoked } = this.changes;
    this.changes = { assigned: [], revoked: [], scheduled: false };
    if (assigned.length + revoked.length > 0) this.emit('rebalance', { assigned: groupByTopic(assigned), revoked: groupByTopic(revoked) });
  }

  private reportError(operation: string, error: unknown): void {
    const translated = this.ctx.translate(error, operation);
    this.ctx.logger.debug(`Consumer of group '${this.group}' could not ${operation}; retrying`, { error: translated.message });
    this.emit('request.error', { operation, error: translated });
  }

  private fetcherHost() {
    return {
      group: this.group,
      memberId: this.memberId,
      maxWaitTimeMs: this.options.maxWaitTimeMs,
      pollIntervalMs: this.options.pollIntervalMs,
      reportError: (operation: string, error: unknown) => this.reportError(operation, error),
    };
  }

  private workerHost(handler: EachMessageHandler, settings: Map<string, TopicSettings>, slots: Semaphore): WorkerHost {
    const consumer = this;
    return {
      ctx: this.ctx,
      group: this.group,
      memberId: this.memberId,
      leaseMs: this.options.sessionTimeoutMs,
      maxBatchSize: this.options.maxBatchSize,
      codec: this.options.codec as Codec,
      handler,
      settingsFor: (topic) => settings.get(topic)!,
      slots,
      get fetcher() {
        return consumer.fetcher!;
      },
      heartbeat: () => this.heartbeatNow(),
      pause: (topic, partition) => this.pause([{ topic, partitions: [partition] }]),
      resume: (topic, partition) => this.resume([{ topic, partitions: [partition] }]),
      reportError: (operation, error) => this.reportError(operation, error),
      onSkipped: (topic, partition, offsets) => this.emit('skipped', { topic, partition, offsets, reason: 'retention' }),
      onRetry: (event) => this.emit('retry', event),
      onDeadLetter: (event) => this.emit('dead-letter', event),
      onLost: (worker, reason) => this.onLost(worker, reason),
      onCrash: (error) => {
        this.ctx.logger.error(`Consumer of group '${this.group}' crashed`, { error: String(error) });
        this.emit('crash', { error });
        void this.stop();
      },
    };
  }
}

function assertHandlerName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
    throw new InvalidArgumentError('handlerName must be a string of 1 to 200 characters.');
  }
}
