import { setImmediate as nextTurn } from 'node:timers/promises';
import type { BrookContext } from '../client/context.js';
import type { Codec } from '../codec/codec.js';
import { HandlerTimeoutError, MessageValidationError } from '../errors/errors.js';
import type { ReceivedMessage } from '../message/message.js';
import { decodeValue, readEntry } from '../message/wire.js';
import { backoffDelay, sleep } from './backoff.js';
import { seqOf, type FetchedEntry } from './entry.js';
import type { Fetcher } from './fetcher.js';
import { MessagePayload, type EachMessageHandler } from './message-payload.js';
import { PartitionStore, type MessageSource, type ParkedRetry } from './partition-store.js';
import type { RetryPolicy } from './retry.options.js';
import type { Semaphore } from './semaphore.js';

/** Why a message was dead-lettered. */
export type DeadLetterReason = 'handler-error' | 'non-retriable' | 'undecodable' | 'validation' | 'timeout';

/** Why a worker lost its partition. */
export type LossReason = 'fenced' | 'gone';

/** A retry the worker scheduled. */
export interface RetryEvent {
  topic: string;
  partition: number;
  offset: number;
  /** The attempt that comes next. */
  attempt: number;
  delayMs: number;
  mode: 'blocking' | 'non-blocking';
  error: unknown;
}

/** A message the worker moved to the dead-letter topic. */
export interface DeadLetterEvent {
  topic: string;
  partition: number;
  offset: number;
  reason: DeadLetterReason;
  attempts: number;
  error: unknown;
  /** ID of the dead letter, as the admin API addresses it. */
  deadLetterId: string;
}

/** How messages of one topic are handled. */
export interface TopicSettings {
  policy: RetryPolicy;
  /** Recorded in dead letters. */
  handlerName: string;
}

/** What a partition worker needs from its consumer. */
export interface WorkerHost {
  readonly ctx: BrookContext;
  readonly group: string;
  readonly memberId: string;
  readonly leaseMs: number;
  readonly maxBatchSize: number;
  readonly codec: Codec;
  readonly handler: EachMessageHandler;
  settingsFor(topic: string): TopicSettings;
  readonly slots: Semaphore;
  readonly fetcher: Fetcher;
  heartbeat(): Promise<void>;
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
  reportError(operation: string, error: unknown): void;
  onSkipped(topic: string, partition: number, offsets: number[]): void;
  onRetry(event: RetryEvent): void;
  onDeadLetter(event: DeadLetterEvent): void;
  onLost(worker: PartitionWorker, reason: LossReason): void;
  onCrash(error: unknown): void;
}

type State = 'recovering' | 'running' | 'draining' | 'closed';

interface Failure {
  error: unknown;
  reason: DeadLetterReason;
}

const TIMED_OUT = Symbol('timed out');

/** How long one partition runs handlers back to back before the event loop gets a turn. */
const MAX_HANDLING_TURN_MS = 1;

/**
 * Due retries are taken from the delay queue at most this often per partition, so a stream of
 * failures costs one round trip per window rather than one per returning message.
 */
const DUE_BATCH_WINDOW_MS = 50;

/**
 * Processes one owned partition: first what previous owners left pending (in offset order), then new
 * messages one at a time, with due retries from the group's delay queue in between. Acknowledges
 * after each handler resolved, batching acknowledgements while one is in flight. It never starts a
 * handler unless the lease is known valid, and every state change is fenced by the lease in Redis.
 */
export class PartitionWorker {
  readonly store: PartitionStore;
  private readonly settings: TopicSettings;
  readonly fetchKeys: [string, string];
  private state: State = 'recovering';
  private lostReason: LossReason | undefined;
  private buffer: FetchedEntry[] = [];
  private head = 0;
  private fetching = false;
  private paused: boolean;
  private leaseValidUntil: number;
  private leaseWaiters: Array<() => void> = [];
  /** When the next retry in the delay queue is due (ms since epoch); checked at start. */
  private dueAtMs = 0;
  private lastTakeAt = 0;
  /** Due retries taken from the delay queue, not yet handled; and whether a take is on its way. */
  private due: FetchedEntry[] = [];
  private taking = false;
  private wakeLoop: (() => void) | undefined;
  /** Aborted when the partition is lost: handlers see it through `signal`. */
  private readonly lossAbort = new AbortController();
  /** Aborted when the worker must stop starting work (revoked, lost or stopping). */
  private readonly haltAbort = new AbortController();
  /** Outcomes not yet sent to Redis; one batch of them is in flight at a time. */
  private outcomes: Outcomes = emptyOutcomes();
  private outcomesInFlight: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private readonly heartbeatFn = () => this.host.heartbeat();
  private readonly pauseFn = () => {
    this.host.pause(this.topic, this.partition);
    return () => this.host.resume(this.topic, this.partition);
  };

  constructor(
    private readonly host: WorkerHost,
    readonly topic: string,
    readonly partition: number,
    private lastReadSeq: number,
    leaseAcquiredAt: number,
    paused: boolean,
  ) {
    this.store = new PartitionStore(host.ctx, topic, partition, host.group, host.memberId);
    this.settings = host.settingsFor(topic);
    this.fetchKeys = [this.store.log, this.store.lease];
    this.leaseValidUntil = this.validUntil(leaseAcquiredAt);
    this.paused = paused;
  }

  get logKey(): string {
    return this.store.log;
  }

  /** The ID after which the group reads next on this partition. */
  get lastReadId(): string {
    return `0-${this.lastReadSeq}`;
  }

  get active(): boolean {
    return this.state === 'recovering' || this.state === 'running';
  }

  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  get lossSignal(): AbortSignal {
    return this.lossAbort.signal;
  }

  start(): void {
    this.loop = this.run();
  }

  /** How many messages the fetcher should read for this partition now (0: none). */
  wantedCount(): number {
    if (this.state !== 'running' || this.paused || this.fetching) return 0;
    const buffered = this.buffer.length - this.head;
    const lowWater = Math.max(1, Math.floor(this.host.maxBatchSize / 2));
    return buffered < lowWater ? this.host.maxBatchSize - buffered : 0;
  }

  fetchStarted(): void {
    this.fetching = true;
  }

  fetchEnded(): void {
    this.fetching = false;
  }

  /** New messages read by the fetcher, in offset order. */
  deliver(entries: FetchedEntry[]): void {
    if (this.state !== 'running') return;
    const firstSeq = seqOf(entries[0].id);
    if (firstSeq > this.lastReadSeq + 1) {
      // Offsets are dense, so a gap means retention removed messages this group had not read yet.
      this.skipped(Array.from({ length: firstSeq - this.lastReadSeq - 1 }, (_, i) => this.lastReadSeq + i));
    }
    this.lastReadSeq = seqOf(entries[entries.length - 1].id);
    this.buffer.push(...entries);
    this.wake();
  }

  /** The lease was renewed by a request sent at `sentAt` (performance.now()); `nextDueMs`: earliest retry due. */
  leaseRenewed(sentAt: number, nextDueMs: number): void {
    this.leaseValidUntil = Math.max(this.leaseValidUntil, this.validUntil(sentAt));
    for (const waiter of this.leaseWaiters.splice(0)) waiter();
    if (nextDueMs < this.dueAtMs) {
      this.dueAtMs = nextDueMs;
      this.wake();
    }
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) {
      this.wake();
      this.host.fetcher.request(this);
    }
  }

  /**
   * Moves the group's position: in-flight work finishes first, buffered messages are dropped, and
   * reading resumes at `offset`.
   */
  async seek(offset: number): Promise<void> {
    const wasPaused = this.paused;
    this.paused = true;
    try {
      await this.flushOutcomes();
      if (!(await this.store.seek(offset))) return;
      this.buffer = [];
      this.head = 0;
      this.lastReadSeq = offset;
    } finally {
      this.paused = wasPaused;
      this.wake();
      this.host.fetcher.request(this, true);
    }
  }

  /** The partition was lost (lease gone, topic deleted): stop at once, nothing more is acknowledged. */
  lose(reason: LossReason): void {
    if (this.lostReason !== undefined || this.state === 'closed') return;
    this.lostReason = reason;
    this.state = 'closed';
    this.buffer = [];
    this.head = 0;
    this.outcomes = emptyOutcomes();
    this.due = [];
    this.lossAbort.abort();
    this.haltAbort.abort();
    for (const waiter of this.leaseWaiters.splice(0)) waiter();
    this.wake();
    this.host.onLost(this, reason);
  }

  /**
   * Stops starting new messages, lets the handler in flight finish and acknowledges what was
   * processed; the caller then releases the lease. Buffered messages stay pending in Redis for the
   * next owner, which is not a duplicate: they were never handled.
   */
  async drain(): Promise<void> {
    if (this.active) this.state = 'draining';
    this.haltAbort.abort();
    this.wake();
    for (const waiter of this.leaseWaiters.splice(0)) waiter();
    await this.loop;
    await this.flushOutcomes();
    if (this.state === 'draining') this.state = 'closed';
  }

  private validUntil(sentAt: number): number {
    // Stay clear of the lease's end on the Redis clock by a tenth of the lease, at most a second.
    return sentAt + this.host.leaseMs - Math.min(this.host.leaseMs / 10, 1_000);
  }

  private wake(): void {
    const wake = this.wakeLoop;
    this.wakeLoop = undefined;
    wake?.();
  }

  private waitForWork(): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.wakeLoop = () => {
        clearTimeout(timer);
        resolve();
      };
      if (!this.paused && !this.taking && Number.isFinite(this.dueAtMs)) timer = setTimeout(() => this.wake(), Math.max(0, this.nextDueCheck() - Date.now()));
    });
  }

  private async run(): Promise<void> {
    try {
      await this.recover();
      if (this.state === 'recovering') {
        this.state = 'running';
        this.host.fetcher.request(this);
      }
      while (this.state === 'running') {
        if (!this.paused && this.nextDueCheck() <= Date.now()) this.takeDue();
        if (!this.paused && this.due.length > 0) await this.processDue();
        else if (this.paused || this.head >= this.buffer.length) await this.waitForWork();
        else await this.processBuffered();
      }
    } catch (error) {
      this.host.onCrash(error);
    }
  }

  private async recover(): Promise<void> {
    let cursor = '0-0';
    do {
      if (this.state !== 'recovering') return;
      const claimed = await this.withRetry('claim pending messages', () => this.store.claim(cursor, this.host.maxBatchSize));
      if (claimed === undefined) return;
      if (claimed === null) return this.lose('fenced');
      if (claimed === 'gone') return this.lose('gone');
      if (claimed.deletedOffsets.length > 0) this.skipped(claimed.deletedOffsets);
      // A fetch this member sent before it last held the partition may have run after the lease came
      // back to it, reading past the position the lease was taken at: those messages are claimed here,
      // so the read position moves past them and the next fetch does not return them again.
      const lastClaimed = claimed.entries.length > 0 ? seqOf(claimed.entries[claimed.entries.length - 1].id) : 0;
      if (lastClaimed > this.lastReadSeq) this.lastReadSeq = lastClaimed;
      this.buffer = claimed.entries;
      this.head = 0;
      while (this.state === 'recovering' && this.head < this.buffer.length) {
        if (this.paused) await this.waitForWork();
        else await this.processBuffered();
      }
      cursor = claimed.next;
    } while (cursor !== '0-0');
    this.buffer = [];
    this.head = 0;
  }

  /** Runs handlers over buffered log messages while holding one concurrency slot. */
  private async processBuffered(): Promise<void> {
    const release = await this.host.slots.acquire();
    const startedAt = performance.now();
    try {
      for (let n = 0; n < this.host.maxBatchSize && this.active && !this.paused && this.head < this.buffer.length; n++) {
        if (!(await this.process(this.buffer[this.head], 'log'))) break;
        this.head++;
        if (this.state === 'running' && this.wantedCount() > 0) this.host.fetcher.request(this);
      }
      // Handlers that resolve at once never let I/O in: after a long run, read the replies and send
      // the next fetch and the acknowledgements before another partition takes the slot.
      if (performance.now() - startedAt >= MAX_HANDLING_TURN_MS) await nextTurn();
    } finally {
      release();
    }
    if (this.head > 1_000 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
  }

  /** When to ask the delay queue next: once a retry is due, but not before the batching window ends. */
  private nextDueCheck(): number {
    return Math.max(this.dueAtMs, this.lastTakeAt + DUE_BATCH_WINDOW_MS);
  }

  /**
   * Takes due retries from the delay queue in the background, like the fetcher reads the log: the
   * worker keeps processing its buffer and runs them at its next turn.
   */
  private takeDue(): void {
    if (this.taking) return;
    this.taking = true;
    this.lastTakeAt = Date.now();
    void this.withRetry('take due retries', () => this.store.takeDue(Date.now(), this.host.maxBatchSize, this.host.leaseMs))
      .then((taken) => {
        if (taken === undefined) return;
        if (taken === null) return this.lose('fenced');
        this.dueAtMs = taken.nextDueMs;
        this.due.push(...taken.entries);
      })
      .finally(() => {
        this.taking = false;
        this.wake();
      });
  }

  /** Runs handlers over the due retries taken from the delay queue. */
  private async processDue(): Promise<void> {
    const release = await this.host.slots.acquire();
    try {
      while (this.due.length > 0 && this.active && !this.paused) {
        if (!(await this.process(this.due[0], 'delay'))) break;
        this.due.shift();
      }
    } finally {
      release();
    }
  }

  /**
   * Handles one message until it succeeds, is parked for a later retry, or is dead-lettered. Resolves
   * false when the worker must stop first: the message then stays where it is for the next owner.
   */
  private async process(entry: FetchedEntry, source: MessageSource): Promise<boolean> {
    const { policy } = this.settings;
    let failures = entry.failure?.attempts ?? 0;
    for (;;) {
      if (!(await this.leaseIsValid())) return false;
      if (failures >= policy.attempts && policy.deadLetter) {
        // The attempts ran out before a crash or a takeover interrupted the dead-lettering.
        const reason = entry.failure?.error?.name === 'HandlerTimeoutError' ? 'timeout' : 'handler-error';
        return this.deadLetter(entry, source, reason, entry.failure?.error, failures, false);
      }
      const failure = await this.attempt(entry, failures + 1);
      if (failure === undefined) {
        if (this.lostReason === undefined) this.acknowledge(entry.id, source);
        return true;
      }
      if (failure.reason !== 'undecodable') failures++;
      if (!this.active) return false;
      const terminal = failure.reason !== 'handler-error' && failure.reason !== 'timeout';
      if ((terminal || failures >= policy.attempts) && policy.deadLetter) {
        return this.deadLetter(entry, source, failure.reason, failure.error, failures, failure.reason !== 'undecodable');
      }
      const delayMs = backoffDelay(policy.backoff, Math.max(1, failures));
      const now = Date.now();
      // The record of an attempt that will be retried keeps no stack: formatting one is the costly
      // part, and only the last failure's stack (taken when dead-lettering) is ever shown.
      const error = JSON.stringify(summarizeError(failure.error, { stack: false }));
      // Retries from the delay queue stay there: they are out of order already.
      const parked = policy.mode === 'non-blocking' || source === 'delay';
      if (parked) {
        // Until the batch lands the message is still pending (or still queued), so nothing is lost
        // by moving on at once; a refusal means the partition was lost.
        this.outcomes.parked.push({ entry, source, nowMs: now, dueMs: now + delayMs, error });
        this.sendOutcomes();
        this.dueAtMs = Math.min(this.dueAtMs, now + delayMs);
        this.host.onRetry({ topic: this.topic, partition: this.partition, offset: entry.offset, attempt: failures + 1, delayMs, mode: 'non-blocking', error: failure.error });
        return true;
      }
      const recorded = await this.withRetry('record a failed attempt', () => this.store.recordFailure(entry.id, now, error));
      if (recorded === undefined) return false;
      if (!recorded) {
        this.lose('fenced');
        return false;
      }
      this.host.onRetry({ topic: this.topic, partition: this.partition, offset: entry.offset, attempt: failures + 1, delayMs, mode: 'blocking', error: failure.error });
      await sleep(delayMs, this.haltAbort.signal);
    }
  }

  /** Decodes the message and runs the handler once; resolves undefined on success. */
  private async attempt(entry: FetchedEntry, attempt: number): Promise<Failure | undefined> {
    let message: ReceivedMessage;
    try {
      const raw = readEntry(entry.fields);
      message = { offset: entry.offset, key: raw.key, value: decodeValue(raw, this.host.codec), headers: raw.headers, timestamp: raw.timestamp };
    } catch (error) {
      return { error, reason: 'undecodable' };
    }
    const payload = new MessagePayload(this.topic, this.partition, message, attempt, this.heartbeatFn, this.pauseFn, this.lossAbort.signal);
    const { handlerTimeoutMs } = this.settings.policy;
    let timer: NodeJS.Timeout | undefined;
    try {
      const handled = this.host.handler(payload);
      const outcome = await Promise.race([handled, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, handlerTimeoutMs, TIMED_OUT)))]);
      if (outcome === TIMED_OUT) {
        const error = new HandlerTimeoutError(handlerTimeoutMs);
        payload.abort(error);
        // The handler keeps running; whatever it does later is no longer awaited.
        Promise.resolve(handled).catch(() => undefined);
        return { error, reason: 'timeout' };
      }
      return undefined;
    } catch (error) {
      return { error, reason: this.classify(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  private classify(error: unknown): DeadLetterReason {
    if (error instanceof MessageValidationError) return 'validation';
    if (!this.settings.policy.isRetriable(error)) return 'non-retriable';
    return 'handler-error';
  }

  private async deadLetter(entry: FetchedEntry, source: MessageSource, reason: DeadLetterReason, error: unknown, attempts: number, failed: boolean): Promise<boolean> {
    const summary = summarizeError(error);
    const diagnostics = [
      'topic', this.topic,
      'partition', this.partition,
      'offset', entry.offset,
      'group', this.host.group,
      'handler', this.settings.handlerName,
      'attempts', attempts,
      'reason', reason,
      'errorName', summary.name,
      'errorMessage', summary.message,
      'errorStack', summary.stack ?? '',
    ];
    const id = await this.withRetry('dead-letter a message', () => this.store.deadLetter(entry, source, Date.now(), failed, diagnostics));
    if (id === undefined) return false;
    if (id === null) {
      this.lose('fenced');
      return false;
    }
    this.host.onDeadLetter({ topic: this.topic, partition: this.partition, offset: entry.offset, reason, attempts, error, deadLetterId: `${this.partition}-${id}` });
    return true;
  }

  /** True when the lease is valid now; waits for a renewal when its local deadline passed. */
  private async leaseIsValid(): Promise<boolean> {
    while (this.active && performance.now() >= this.leaseValidUntil) {
      await new Promise<void>((resolve) => this.leaseWaiters.push(resolve));
    }
    return this.active;
  }

  private skipped(offsets: number[]): void {
    void this.store.countSkipped(offsets.length).catch((error: unknown) => this.host.reportError('count skipped messages', error));
    this.host.onSkipped(this.topic, this.partition, offsets);
  }

  private acknowledge(id: string, source: MessageSource): void {
    (source === 'log' ? this.outcomes.acked : this.outcomes.ackedDelayed).push(id);
    this.sendOutcomes();
  }

  /**
   * Sends what was decided since the last batch — acknowledgements and retries to park — unless a
   * batch is in flight: under load they accumulate behind it, so a busy partition pays a few round
   * trips per batch rather than one per message.
   */
  private sendOutcomes(): void {
    if (this.outcomesInFlight !== undefined || isEmpty(this.outcomes)) return;
    const batch = this.outcomes;
    this.outcomes = emptyOutcomes();
    this.outcomesInFlight = this.settle(batch).finally(() => {
      this.outcomesInFlight = undefined;
      this.sendOutcomes();
    });
  }

  private async flushOutcomes(): Promise<void> {
    while (this.outcomesInFlight !== undefined || !isEmpty(this.outcomes)) {
      this.sendOutcomes();
      await this.outcomesInFlight;
    }
  }

  private async settle({ acked, ackedDelayed, parked }: Outcomes): Promise<void> {
    const accepted = await this.withRetry(
      'acknowledge messages',
      async () => {
        const results = await Promise.all([
          acked.length === 0 || this.store.ack(acked),
          ackedDelayed.length === 0 || this.store.ackDelayed(ackedDelayed),
          parked.length === 0 || this.store.scheduleRetries(parked),
        ]);
        return results.every(Boolean);
      },
      // Past the lease the scripts would be refused anyway; the next owner redelivers.
      () => this.lostReason !== undefined || performance.now() >= this.leaseValidUntil,
    );
    if (accepted === false) this.lose('fenced');
  }

  /**
   * Retries a Redis call through connection trouble with capped backoff. Gives up (resolving
   * undefined) once `giveUp` says so or the partition is lost.
   */
  private async withRetry<T>(operation: string, call: () => Promise<T>, giveUp: () => boolean = () => this.lostReason !== undefined): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        this.host.reportError(operation, error);
        if (giveUp()) return undefined;
        await sleep(Math.min(50 * 2 ** attempt, 2_000));
        if (giveUp()) return undefined;
      }
    }
  }
}

/** Decisions about messages waiting to be written to Redis together. */
interface Outcomes {
  /** Log messages whose handler succeeded. */
  acked: string[];
  /** Retried messages (from the delay queue) whose handler succeeded. */
  ackedDelayed: string[];
  /** Failed messages to park in the delay queue. */
  parked: ParkedRetry[];
}

function emptyOutcomes(): Outcomes {
  return { acked: [], ackedDelayed: [], parked: [] };
}

function isEmpty(outcomes: Outcomes): boolean {
  return outcomes.acked.length + outcomes.ackedDelayed.length + outcomes.parked.length === 0;
}

const MAX_STACK_CHARS = 4_000;

/** A bounded, JSON-safe description of whatever a handler threw. */
export function summarizeError(error: unknown, { stack = true } = {}): { name: string; message: string; stack?: string } {
  if (error instanceof Error) {
    return { name: error.name, message: error.message.slice(0, 1_000), stack: stack ? error.stack?.slice(0, MAX_STACK_CHARS) : undefined };
  }
  if (error !== null && typeof error === 'object' && 'name' in error && 'message' in error) {
    const record = error as { name: unknown; message: unknown; stack?: unknown };
    return { name: String(record.name), message: String(record.message).slice(0, 1_000), stack: stack && typeof record.stack === 'string' ? record.stack.slice(0, MAX_STACK_CHARS) : undefined };
  }
  return { name: 'NonError', message: String(error).slice(0, 1_000) };
}
