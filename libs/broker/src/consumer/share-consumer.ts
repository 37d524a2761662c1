import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { assertInteger } from '../client/brook.options.js';
import type { BrookContext } from '../client/context.js';
import { retryRetriable } from '../client/io-retry.js';
import { sleep } from '../client/sleep.js';
import type { DeadLetterEvent, RetryEvent } from './worker-events.js';
import { HandlerRunner } from './handler-runner.js';
import type { AttemptTrace } from '../tracing/attempt-trace.js';
import { ProcessTracing } from '../tracing/process-tracing.js';
import type { EachMessagePayload } from './message-payload.js';
import { Semaphore } from './semaphore.js';
import { deadLetterFields, summarizeError } from '../dead-letters/dead-letter-record.js';
import { FencedError, GroupKindConflictError, InvalidArgumentError, UnknownTopicError, type BrokerError } from '../errors/errors.js';
import { assertValidName } from '../names/names.js';
import { unpackEntries, type LogEntry } from '../redis/packed-entries.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { HeldRecord } from '../redis/specs/share.js';
import { decideAfterFailure, decideBeforeAttempt, type DeadLetterDecision } from '../retry/retry-decision.js';
import { resolveRetryPolicy, type DeadLetterOptions, type RetryOptions, type RetryPolicy } from '../retry/retry.options.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import { resolveShareConsumerOptions, type ResolvedShareConsumerOptions, type ShareConsumerOptions } from './share-consumer.options.js';

/** What a share-group handler receives. */
export interface ShareMessagePayload<V = unknown> extends EachMessagePayload<V> {
  /** Deliveries of this record so far, this one included: 1 the first time, more after a release or an expired lock. */
  deliveryCount: number;
  /**
   * Extends this record's acquisition lock by `acquisitionLockMs` from now (Kafka's RENEW), for a
   * handler that needs longer. Rejects with `FencedError` when the lock already ran out.
   */
  renewLock(): Promise<void>;
}

export type ShareMessageHandler<V = unknown> = (payload: ShareMessagePayload<V>) => Promise<void> | void;

/** What `shareConsumer.run` takes. */
export interface ShareRunOptions {
  eachMessage: ShareMessageHandler;
  /** Handlers in flight at once in this member. @defaultValue `16` */
  concurrency?: number;
  /**
   * Backoff before a released record is delivered again, the handler timeout and which errors are
   * worth retrying. Deliveries are counted by the group (`deliveryLimit`), so `attempts` and `mode`
   * do not apply.
   */
  retry?: Omit<RetryOptions, 'attempts' | 'mode'>;
  deadLetter?: Omit<DeadLetterOptions, 'enabled'>;
  /** Names the handler in dead letters. @defaultValue the function's name, or `'eachMessage'` */
  handlerName?: string;
}

/** Events a share consumer emits. */
export interface ShareConsumerEvents {
  /** A handler failed; the record was released and is delivered again after `delayMs`, to any member. */
  retry: [RetryEvent];
  'dead-letter': [DeadLetterEvent];
  /** A record's lock ran out before its handler finished: its result was not committed; another delivery follows. */
  'lock.lost': [{ topic: string; partition: number; offset: number; deliveryCount: number }];
  'request.error': [{ operation: string; error: BrokerError }];
  crash: [{ error: unknown }];
  stop: [];
}

interface Subscription {
  topic: string;
  fromBeginning: boolean;
}

interface SharePartition {
  topic: string;
  partition: number;
  averageBytes: number;
  gone: boolean;
}

/** A record this member acquired. */
interface Acquired {
  part: SharePartition;
  entry: LogEntry;
  delivery: number;
  /** performance.now() until which the lock surely holds (it was sent before Redis started it). */
  lockedUntil: number;
  loss: AbortController;
  running: boolean;
}

type Status = 'idle' | 'running' | 'stopping' | 'stopped';

const DEFAULT_CONCURRENCY = 16;
/** How often a member announces itself; it counts as gone after `PRESENCE_TTL_MS` without. */
const PRESENCE_BEAT_MS = 2_000;
const PRESENCE_TTL_MS = 10_000;
/** How often topics are looked up again for added partitions. */
const REFRESH_TOPICS_MS = 5_000;

/**
 * A member of a share group (Kafka's KIP-932 queues): every member reads every partition of the
 * subscribed topics, and each record is acquired by one member under a lock — acknowledged when
 * its handler resolves, released for another delivery after a retriable failure, rejected to the
 * dead-letter topic when it cannot succeed or its deliveries reach `deliveryLimit`. A member that
 * dies or freezes loses its locks when they run out; other members get the records. There is no
 * per-partition order and no offset to seek, as in Kafka.
 *
 * ```ts
 * const mailers = brook.shareConsumer({ group: 'mailers' });
 * await mailers.subscribe({ topic: 'orders.shipped' });
 * await mailers.run({ concurrency: 50, eachMessage: async ({ message }) => sendMail(message.value) });
 * ```
 */
export class ShareConsumer extends EventEmitter<ShareConsumerEvents> {
  readonly options: ResolvedShareConsumerOptions;
  readonly group: string;
  /** Unique per instance: the Redis consumer name its records are acquired under. */
  readonly memberId: string;
  private status: Status = 'idle';
  private readonly subscriptions = new Map<string, Subscription>();
  private partitions: SharePartition[] = [];
  private readonly held = new Set<Acquired>();
  private readonly queued: Acquired[] = [];
  /** Records whose handler runs now. */
  private running = 0;
  private readonly toAck: Acquired[] = [];
  private readonly settling = new Set<Promise<unknown>>();
  private readonly halt = new AbortController();
  private slots: Semaphore | undefined;
  private concurrency = DEFAULT_CONCURRENCY;
  private runner: HandlerRunner | undefined;
  private policy: RetryPolicy | undefined;
  private handlerName = 'eachMessage';
  private readonly heldWaiters = new Set<() => void>();
  private loop: Promise<void> | undefined;
  /** Fires at the earliest lock deadline of the records held. */
  private lockTimer: NodeJS.Timeout | undefined;
  private lockTimerAt = Infinity;
  private presence: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
    options: ShareConsumerOptions,
  ) {
    super();
    this.options = resolveShareConsumerOptions(options);
    this.group = this.options.group;
    this.memberId = `${ctx.options.clientId}-${randomUUID()}`;
    ctx.track(this);
  }

  /** Adds topics to consume. Call before `run`; the topics must exist. */
  async subscribe(subscription: { topic?: string; topics?: string[]; fromBeginning?: boolean }): Promise<void> {
    if (this.status !== 'idle') throw new InvalidArgumentError('subscribe() must be called before run(); create another share consumer to read more topics.');
    if (subscription === null || typeof subscription !== 'object') throw new InvalidArgumentError("subscribe needs { topic } or { topics }, e.g. subscribe({ topic: 'orders.shipped' }).");
    const topics = [...(subscription.topic !== undefined ? [subscription.topic] : []), ...(subscription.topics ?? [])];
    if (topics.length === 0) throw new InvalidArgumentError('subscribe needs { topic } or a non-empty { topics }.');
    if (subscription.fromBeginning !== undefined && typeof subscription.fromBeginning !== 'boolean') throw new InvalidArgumentError('fromBeginning must be a boolean.');
    for (const topic of topics) assertValidName('topic', topic);
    for (const topic of topics) {
      if ((await this.registry.get(topic, { fresh: true })) === undefined) throw new UnknownTopicError(topic);
      this.subscriptions.set(topic, { topic, fromBeginning: subscription.fromBeginning ?? false });
    }
  }

  /** Joins the share group and starts acquiring records; resolves once the group is registered. */
  async run(options: ShareRunOptions): Promise<void> {
    if (this.status !== 'idle') throw new InvalidArgumentError('run() was already called on this share consumer; create a new one to run again.');
    if (options === null || typeof options !== 'object' || typeof options.eachMessage !== 'function') {
      throw new InvalidArgumentError('run needs { eachMessage: async ({ message, deliveryCount }) => { … } }.');
    }
    const retry = (options.retry ?? {}) as RetryOptions;
    if (retry.attempts !== undefined || retry.mode !== undefined) {
      throw new InvalidArgumentError('A share group counts deliveries: set deliveryLimit on brook.shareConsumer() instead of retry.attempts, and leave out retry.mode (records are always released for another delivery).');
    }
    if ((options.deadLetter as DeadLetterOptions | undefined)?.enabled !== undefined) {
      throw new InvalidArgumentError('A share group always dead-letters records that reach deliveryLimit; leave out deadLetter.enabled.');
    }
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    assertInteger('concurrency', this.concurrency, 1, 10_000);
    if (this.subscriptions.size === 0) throw new InvalidArgumentError('Subscribe to at least one topic before run().');
    this.handlerName = options.handlerName ?? (options.eachMessage.name || 'eachMessage');
    this.policy = resolveRetryPolicy({ ...retry, attempts: this.options.deliveryLimit, mode: 'non-blocking' }, {});
    this.runner = new HandlerRunner(
      options.eachMessage as (payload: EachMessagePayload) => Promise<void> | void,
      this.options.codec,
      this.policy,
      ProcessTracing.create(this.ctx.options.tracing, this.group),
    );
    this.slots = new Semaphore(this.concurrency);
    this.ctx.assertOpen('consumer');
    this.status = 'running';
    await this.ctx.ready();
    const registered = await this.ctx.call(SCRIPTS.registerGroup, { group: this.group, kind: 'share', topics: [...this.subscriptions.keys()] });
    if (registered.status === 'kind') {
      this.status = 'stopped';
      this.ctx.untrack(this);
      throw new GroupKindConflictError(this.group, registered.existing, 'share');
    }
    const presence = await this.announce('beat');
    if (presence.status === 'conflict') {
      this.status = 'stopped';
      this.ctx.untrack(this);
      throw new InvalidArgumentError(
        `Share group '${this.group}' runs with acquisitionLockMs ${presence.lockMs}, this member asked for ${this.options.acquisitionLockMs}. ` +
          'Members of a share group must use one lock length (a shorter one would take records the others still hold); use the same acquisitionLockMs, or change it once every member stopped.',
      );
    }
    this.presence = setInterval(() => void this.announce('beat').catch((error: unknown) => this.reportError('announce this member', error)), PRESENCE_BEAT_MS);
    this.presence.unref();
    await this.refreshPartitions();
    this.loop = this.fetchLoop().catch((error: unknown) => this.crash(error));
  }

  /** Records this member holds now (acquired and not yet settled). */
  get acquired(): number {
    return this.held.size;
  }

  /**
   * Stops acquiring, releases the records not started so other members get them at once, lets the
   * handlers in flight finish (each within its lock) and settles their records. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  close(): Promise<void> {
    return this.stop();
  }

  private async shutdown(): Promise<void> {
    if (this.status === 'idle' || this.status === 'stopped') {
      this.status = 'stopped';
      this.ctx.untrack(this);
      return;
    }
    this.status = 'stopping';
    this.halt.abort();
    this.heldChanged();
    await this.loop;
    const notStarted = this.queued.splice(0);
    this.releaseNow(notStarted, 0, undefined);
    for (const record of notStarted) this.forget(record);
    while (this.held.size > 0) {
      const running = [...this.held];
      const firstDeadline = Math.min(...running.map((record) => record.lockedUntil));
      await Promise.race([this.whenHeldChanges(), sleep(Math.max(0, firstDeadline - performance.now()))]);
      this.sweep();
      for (const record of this.held) if (performance.now() >= record.lockedUntil) this.forget(record);
    }
    await Promise.allSettled([...this.settling]);
    clearTimeout(this.lockTimer);
    clearInterval(this.presence);
    await this.leave();
    this.status = 'stopped';
    this.ctx.untrack(this);
    this.emit('stop');
  }

  /** Reads every partition for records while there is room for them, waiting a little when there is nothing. */
  private async fetchLoop(): Promise<void> {
    let idleMs = 1;
    let refreshedAt = performance.now();
    while (this.status === 'running') {
      if (performance.now() - refreshedAt > REFRESH_TOPICS_MS) {
        refreshedAt = performance.now();
        await this.refreshPartitions().catch((error: unknown) => this.reportError('look up topics', error));
      }
      // At most twice the handlers in flight are held: a record waits briefly for a slot, well within
      // its lock. Reading again once half of that room is free keeps reads large and slots busy.
      const room = this.concurrency * 2 - this.queued.length - this.running;
      const targets = this.partitions.filter((part) => !part.gone);
      if (room < Math.max(1, Math.floor(this.concurrency / 2)) || targets.length === 0) {
        await this.whenHeldChanges(targets.length === 0 ? this.options.pollIntervalMs : undefined);
        continue;
      }
      const perPartition = Math.max(1, Math.min(this.options.maxBatchSize, Math.ceil(room / targets.length)));
      const acquired = await Promise.all(targets.map((part) => this.acquire(part, perPartition)));
      if (acquired.reduce((sum, count) => sum + count, 0) > 0) {
        idleMs = 1;
      } else {
        await sleep(idleMs, this.halt.signal);
        idleMs = Math.min(idleMs * 2, this.options.pollIntervalMs);
      }
    }
  }

  /** Acquires records of one partition; resolves how many. */
  private async acquire(part: SharePartition, count: number): Promise<number> {
    const sentAt = performance.now();
    let reply;
    try {
      reply = await this.ctx.call(SCRIPTS.shareFetch, {
        topic: part.topic,
        partition: part.partition,
        group: this.group,
        member: this.memberId,
        count,
        maxBytes: this.options.maxBytesPerPartition,
        lockMs: this.options.acquisitionLockMs,
        averageBytes: Math.round(part.averageBytes),
        startId: this.subscriptions.get(part.topic)?.fromBeginning ? '0' : '$',
      });
    } catch (error) {
      // Records a lost reply acquired stay with this member until their lock runs out; then any member gets them.
      this.reportError(`acquire records of partition ${part.partition} of '${part.topic}'`, error);
      return 0;
    }
    if (reply.status === 'gone') {
      part.gone = true;
      return 0;
    }
    const entries = reply.packed.length > 0 ? unpackEntries(reply.packed, reply.failures) : [];
    if (entries.length > 0) part.averageBytes = entries.reduce((sum, entry) => sum + entry.bytes, 0) / entries.length;
    const lockedUntil = sentAt + this.options.acquisitionLockMs;
    entries.forEach((entry, i) => {
      const record: Acquired = { part, entry, delivery: reply.deliveries[i], lockedUntil, loss: new AbortController(), running: false };
      if (this.status !== 'running') return this.releaseNow([record], 0, undefined);
      this.held.add(record);
      this.queued.push(record);
    });
    if (entries.length > 0) this.armLockTimer(lockedUntil);
    this.pump();
    return entries.length;
  }

  /** Starts queued records while handler slots are free. */
  private pump(): void {
    while (this.queued.length > 0) {
      const release = this.slots!.tryAcquire();
      if (release === undefined) return;
      const record = this.queued.shift()!;
      void this.process(record).finally(() => {
        release();
        this.pump();
      });
    }
  }

  private async process(record: Acquired): Promise<void> {
    const { part, entry, delivery } = record;
    const policy = this.policy!;
    try {
      if (this.lockGone(record)) return this.forget(record);
      record.running = true;
      this.running++;
      const failed = delivery - 1;
      const lastError = entry.failure?.error;
      const exhausted = decideBeforeAttempt(policy, failed, lastError as { name?: string } | undefined);
      if (exhausted !== undefined) return await this.reject(record, exhausted, lastError);
      const outcome = await this.runner!.run(
        part.topic,
        part.partition,
        entry,
        delivery,
        { heartbeat: () => this.renew(record), pause: () => () => undefined, lossSignal: record.loss.signal },
        (payload) => Object.assign(payload, { deliveryCount: delivery, renewLock: () => this.renew(record) }),
      );
      const trace = outcome.ok ? undefined : outcome.trace;
      try {
        if (this.lockGone(record)) {
          this.emit('lock.lost', { topic: part.topic, partition: part.partition, offset: entry.offset, deliveryCount: delivery });
          return this.forget(record);
        }
        if (outcome.ok) {
          record.running = false;
          this.running--;
          return this.settle(record);
        }
        const decision = decideAfterFailure(policy, failed, outcome.reason, 'log');
        if (decision.kind === 'dead-letter') return await this.reject(record, decision, outcome.error, trace);
        trace?.retried(entry.offset, delivery + 1, decision.delayMs, 'non-blocking');
        this.emit('retry', { topic: part.topic, partition: part.partition, offset: entry.offset, attempt: delivery + 1, delayMs: decision.delayMs, mode: 'non-blocking', error: outcome.error });
        this.releaseNow([record], decision.delayMs, JSON.stringify(summarizeError(outcome.error, { stack: false })));
        this.forget(record);
      } finally {
        trace?.end();
      }
    } catch (error) {
      this.forget(record);
      this.crash(error);
    }
  }

  /** Whether the record's lock may have run out (then Redis may have handed it to another member). */
  private lockGone(record: Acquired): boolean {
    return record.loss.signal.aborted || performance.now() >= record.lockedUntil;
  }

  private async renew(record: Acquired): Promise<void> {
    const { part } = record;
    const sentAt = performance.now();
    const fenced = () => new FencedError(part.topic, part.partition, this.group);
    if (this.lockGone(record)) throw fenced();
    const reply = await this.ctx.call(SCRIPTS.shareSettle, { ...this.ref(part), action: 'renew', lockMs: this.options.acquisitionLockMs, records: [heldRecord(record)] });
    if (reply.settled !== 1 || this.lockGone(record)) {
      record.loss.abort(fenced());
      throw fenced();
    }
    record.lockedUntil = Math.max(record.lockedUntil, sentAt + this.options.acquisitionLockMs);
  }

  /** Acknowledges a handled record: records handled in the same turn go in one call per partition. */
  private settle(record: Acquired): void {
    this.toAck.push(record);
    if (this.toAck.length === 1) setImmediate(() => this.flushAcks());
  }

  private flushAcks(): void {
    const records = this.toAck.splice(0);
    for (const [part, group] of byPartition(records)) {
      const lockedUntil = Math.min(...group.map((record) => record.lockedUntil));
      const done = retryRetriable(
        () => this.ctx.call(SCRIPTS.shareSettle, { ...this.ref(part), action: 'ack', lockMs: this.options.acquisitionLockMs, records: group.map(heldRecord) }),
        {
          operation: 'acknowledge records',
          initialBackoffMs: 50,
          maxBackoffMs: 1_000,
          // Past the lock another member may hold the records: an acknowledgement would be refused anyway.
          shouldStop: () => performance.now() >= lockedUntil,
          onRetry: (error) => this.reportError('acknowledge records', error),
        },
      )
        .then((reply) => {
          // Their lock ran out and another member acquired them: the result was not committed.
          const stale = new Set(reply?.stale ?? []);
          for (const record of group) {
            if (!stale.has(record.entry.id)) continue;
            this.emit('lock.lost', { topic: part.topic, partition: part.partition, offset: record.entry.offset, deliveryCount: record.delivery });
          }
        })
        .catch((error: unknown) => this.reportError('acknowledge records', error))
        .finally(() => {
          this.settling.delete(done);
          for (const record of group) this.forget(record);
        });
      this.settling.add(done);
    }
  }

  /** Releases records for another delivery after `delayMs` (0: at once), recording `error` when a handler failed. */
  private releaseNow(records: readonly Acquired[], delayMs: number, error: string | undefined): void {
    for (const [part, group] of byPartition(records)) {
      const done = retryRetriable(
        () =>
          this.ctx.call(SCRIPTS.shareSettle, {
            ...this.ref(part),
            action: 'release',
            lockMs: this.options.acquisitionLockMs,
            delayMs,
            error,
            records: group.map(heldRecord),
          }),
        { operation: 'release records', initialBackoffMs: 50, maxBackoffMs: 1_000, maxAttempts: 5, onRetry: (e) => this.reportError('release records', e) },
      )
        .catch((e: unknown) => this.reportError('release records', e))
        .finally(() => this.settling.delete(done));
      this.settling.add(done);
    }
  }

  /** Dead-letters a record (Kafka's REJECT). */
  private async reject(record: Acquired, decision: DeadLetterDecision, error: unknown, trace?: AttemptTrace): Promise<void> {
    const { part, entry, delivery } = record;
    try {
      const diagnostics = deadLetterFields({
        topic: part.topic,
        partition: part.partition,
        offset: entry.offset,
        group: this.group,
        handler: this.handlerName,
        attempts: decision.attempts,
        reason: decision.reason,
        error,
      });
      const reply = await retryRetriable(
        () =>
          this.ctx.call(SCRIPTS.deadLetter, {
            topic: part.topic,
            partition: part.partition,
            group: this.group,
            token: this.memberId,
            id: entry.id,
            messageId: entry.messageId,
            source: `shared:${delivery}`,
            failed: decision.countsFailure,
            diagnostics,
            fields: entry.fields,
          }),
        { operation: 'dead-letter a record', initialBackoffMs: 50, maxBackoffMs: 1_000, shouldStop: () => performance.now() >= record.lockedUntil },
      );
      if (reply?.status === 'ok' && reply.deadLetterId !== '') {
        trace?.deadLettered(entry.offset, decision.reason, decision.attempts, `${part.partition}-${reply.deadLetterId}`);
        this.emit('dead-letter', {
          topic: part.topic,
          partition: part.partition,
          offset: entry.offset,
          reason: decision.reason,
          attempts: decision.attempts,
          error,
          deadLetterId: `${part.partition}-${reply.deadLetterId}`,
        });
      }
    } catch (failure) {
      this.reportError('dead-letter a record', failure);
    } finally {
      this.forget(record);
    }
  }

  /** Makes sure the lock timer fires by `at` (the deadline of a record just acquired or renewed). */
  private armLockTimer(at: number): void {
    if (at >= this.lockTimerAt) return;
    clearTimeout(this.lockTimer);
    this.lockTimerAt = at;
    this.lockTimer = setTimeout(() => {
      this.lockTimerAt = Infinity;
      this.lockTimer = undefined;
      this.sweep();
      let next = Infinity;
      for (const record of this.held) if (!record.loss.signal.aborted) next = Math.min(next, record.lockedUntil);
      if (Number.isFinite(next)) this.armLockTimer(next);
    }, Math.max(0, at - performance.now()));
    this.lockTimer.unref();
  }

  /** Aborts the handlers whose lock ran out and drops queued records that can no longer start. */
  private sweep(): void {
    const now = performance.now();
    for (const record of this.held) {
      if (now < record.lockedUntil) continue;
      if (record.running) record.loss.abort(new FencedError(record.part.topic, record.part.partition, this.group));
    }
    for (let i = this.queued.length - 1; i >= 0; i--) {
      if (now >= this.queued[i].lockedUntil) this.forget(this.queued.splice(i, 1)[0]);
    }
  }

  private forget(record: Acquired): void {
    if (record.running) {
      record.running = false;
      this.running--;
    }
    if (!this.held.delete(record)) return;
    this.heldChanged();
  }

  private heldChanged(): void {
    const waiters = [...this.heldWaiters];
    this.heldWaiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves when a held record was settled or dropped (or the consumer stops), or after `timeoutMs`. */
  private whenHeldChanges(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      const waiters = this.heldWaiters;
      waiters.add(done);
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
    });
  }

  private async refreshPartitions(): Promise<void> {
    const known = new Set(this.partitions.map((part) => `${part.topic}\u0000${part.partition}`));
    for (const { topic } of this.subscriptions.values()) {
      const config = await this.registry.get(topic, { fresh: true });
      if (config === undefined) continue;
      for (let partition = 0; partition < config.partitions; partition++) {
        if (!known.has(`${topic}\u0000${partition}`)) this.partitions.push({ topic, partition, averageBytes: 0, gone: false });
      }
    }
  }

  private announce(action: 'beat' | 'leave') {
    return this.ctx.call(SCRIPTS.shareMember, {
      group: this.group,
      member: this.memberId,
      action,
      ttlMs: PRESENCE_TTL_MS,
      lockMs: this.options.acquisitionLockMs,
      clientId: this.ctx.options.clientId,
    });
  }

  /** Leaves the group's member list, and the partitions' consumer lists where it holds nothing. */
  private async leave(): Promise<void> {
    await Promise.allSettled([
      this.announce('leave'),
      ...this.partitions.filter((part) => !part.gone).map((part) => this.ctx.call(SCRIPTS.shareLeave, this.ref(part))),
    ]).then((results) => {
      for (const result of results) if (result.status === 'rejected') this.reportError('leave the share group', result.reason);
    });
  }

  private ref(part: SharePartition) {
    return { topic: part.topic, partition: part.partition, group: this.group, member: this.memberId };
  }

  private crash(error: unknown): void {
    this.ctx.logger.error(`Share consumer of group '${this.group}' crashed`, { error: String(error) });
    this.emit('crash', { error });
    void this.stop();
  }

  private reportError(operation: string, error: unknown): void {
    const translated = this.ctx.translate(error, operation);
    this.ctx.logger.debug(`Share consumer of group '${this.group}' could not ${operation}`, { error: translated.message });
    this.emit('request.error', { operation, error: translated });
    // Retrying cannot help until an operator grants the permission: stop rather than spin.
    if (translated.code === 'NO_PERMISSION' && this.status === 'running') this.crash(translated);
  }
}

/** Records grouped by partition: one settling call per partition. */
function byPartition(records: readonly Acquired[]): Map<SharePartition, Acquired[]> {
  const groups = new Map<SharePartition, Acquired[]>();
  for (const record of records) {
    const group = groups.get(record.part);
    if (group === undefined) groups.set(record.part, [record]);
    else group.push(record);
  }
  return groups;
}

function heldRecord({ entry, delivery }: Acquired): HeldRecord {
  return { id: entry.id, delivery, messageId: entry.messageId };
}
