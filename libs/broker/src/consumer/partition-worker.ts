import { retryRetriable } from '../client/io-retry.js';
import { sleep } from '../client/sleep.js';
import { deadLetterFields, summarizeError, type DeadLetterReason } from '../dead-letters/dead-letter-record.js';
import { FencedError } from '../errors/errors.js';
import type { LogEntry } from '../redis/packed-entries.js';
import { decideAfterFailure, decideBeforeAttempt, type DeadLetterDecision } from '../retry/retry-decision.js';
import type { RetryPolicy } from '../retry/retry.options.js';
import type { FetchRequester, FetchTarget, FetchWant, Fetched } from './fetch-target.js';
import { gapBetween, rangesOf, type OffsetRange } from './gaps.js';
import type { HandlerRunner, PayloadControls } from './handler-runner.js';
import type { PartitionLease } from './lease.js';
import type { RenewableLease } from './lease-renewer.js';
import { OutcomeBatcher } from './outcome-batcher.js';
import type { MessageSource, PartitionStore } from './partition-store.js';
import type { Semaphore } from './semaphore.js';

/**
 * Why a worker lost its partition without giving it up: `fenced` (its token no longer holds the
 * lease), `gone` (the topic was deleted or the group reset), `expired` (no renewal came back before
 * its local deadline), `in-doubt` (its connection dropped, or Redis lost writes under it), `error`
 * (Redis refused a state change with an error; the member takes the partition back later).
 */
export type LossReason = 'fenced' | 'gone' | 'expired' | 'in-doubt' | 'error';

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

/** Where a worker reports what happens. */
export interface WorkerEvents {
  skipped(range: OffsetRange): void;
  retry(event: RetryEvent): void;
  deadLetter(event: DeadLetterEvent): void;
  lost(worker: PartitionWorker, reason: LossReason): void;
  /** The highest offset read so far + 1, to notice a log end that went back. */
  readUpTo(worker: PartitionWorker, logEnd: number): void;
  reportError(operation: string, error: unknown): void;
  crash(error: unknown): void;
}

/** Everything a worker works with, handed in by its consumer. */
export interface WorkerDeps {
  store: PartitionStore;
  lease: PartitionLease;
  runner: HandlerRunner;
  policy: RetryPolicy;
  handlerName: string;
  /** Handlers running at once, across the consumer's partitions. */
  slots: Semaphore;
  fetcher: FetchRequester;
  maxBatchSize: number;
  maxBytesPerPartition: number;
  controls: Omit<PayloadControls, 'lossSignal'>;
  events: WorkerEvents;
}

type State = 'recovering' | 'running' | 'draining' | 'closed';

/** Due retries are taken at most this often, so a stream of failures costs one round trip per window. */
const DUE_BATCH_WINDOW_MS = 50;

/**
 * Processes one owned partition, under one fencing token: first what earlier owners left pending
 * (in offset order), then new messages one at a time, with due retries from the group's delay
 * queue in between. It starts a handler only while its lease surely holds, acknowledges after the
 * handler resolved, and stops — aborting its handlers' signal — when it loses the partition.
 */
export class PartitionWorker implements FetchTarget, RenewableLease {
  readonly topic: string;
  readonly partition: number;
  readonly token: string;
  private state: State = 'recovering';
  private lostReason: LossReason | undefined;
  private buffer: LogEntry[] = [];
  private head = 0;
  private bufferedBytes = 0;
  private averageBytes = 0;
  private fetching = false;
  private due: LogEntry[] = [];
  private dueAt = 0;
  private lastTakeAt = -Infinity;
  private taking = false;
  private wakeLoop: (() => void) | undefined;
  private readonly lossAbort = new AbortController();
  private readonly haltAbort = new AbortController();
  private readonly outcomes: OutcomeBatcher;
  private readonly controls: PayloadControls;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly deps: WorkerDeps,
    /** The sequence of the last message read (offset + 1). */
    private lastReadSeq: number,
    private paused: boolean,
  ) {
    this.topic = deps.store.ref.topic;
    this.partition = deps.store.ref.partition;
    this.token = deps.store.token;
    this.controls = { ...deps.controls, lossSignal: this.lossAbort.signal };
    this.outcomes = new OutcomeBatcher(deps.store, {
      isGone: () => this.lostReason !== undefined,
      lose: (reason) => this.lose(reason),
      reportError: (operation, error) => deps.events.reportError(operation, error),
    });
  }

  get lease(): PartitionLease {
    return this.deps.lease;
  }

  get position(): string {
    return `0-${this.lastReadSeq}`;
  }

  get lost(): boolean {
    return this.lostReason !== undefined;
  }

  private get active(): boolean {
    return this.state === 'recovering' || this.state === 'running';
  }

  start(): void {
    this.loop = this.run();
  }

  /** Resolves once the worker's loop ended: no handler of it runs any more (or its timeout passed). */
  settled(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  wanted(): FetchWant | undefined {
    if (this.state !== 'running' || this.paused || this.fetching) return undefined;
    const buffered = this.buffer.length - this.head;
    const { maxBatchSize, maxBytesPerPartition } = this.deps;
    if (buffered >= Math.max(1, Math.floor(maxBatchSize / 2)) || this.bufferedBytes >= maxBytesPerPartition) return undefined;
    return { count: maxBatchSize - buffered, maxBytes: maxBytesPerPartition - this.bufferedBytes, averageBytes: Math.round(this.averageBytes) };
  }

  fetchStarted(): void {
    this.fetching = true;
  }

  fetched(result: Fetched | undefined): void {
    this.fetching = false;
    if (result === undefined) return;
    if (result.status !== 'ok') return this.lose(result.status);
    if (this.state !== 'running' || result.entries.length === 0) return;
    const { entries } = result;
    if (entries[0].offset < this.lastReadSeq) {
      // Offsets went back: Redis lost writes under this worker. Nothing it holds can be trusted.
      return this.lose('in-doubt');
    }
    const gap = gapBetween(this.lastReadSeq - 1, entries[0].offset);
    if (gap !== undefined) this.skipped(gap);
    let bytes = 0;
    for (const entry of entries) bytes += entry.bytes;
    this.averageBytes = bytes / entries.length;
    this.bufferedBytes += bytes;
    this.lastReadSeq = entries[entries.length - 1].offset + 1;
    this.buffer.push(...entries);
    this.deps.events.readUpTo(this, this.lastReadSeq);
    this.wake();
  }

  renewal(renewed: boolean, sentAt: number, msUntilNextDue: number): void {
    if (!renewed) return this.lose('fenced');
    this.deps.lease.renewed(sentAt);
    this.expectDue(msUntilNextDue);
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) {
      this.wake();
      this.deps.fetcher.request(this);
    }
  }

  /** Moves the group's position: in-flight work finishes first, buffered messages are dropped, reading resumes at `offset`. */
  async seek(offset: number): Promise<void> {
    const wasPaused = this.paused;
    this.paused = true;
    try {
      await this.outcomes.flush();
      const moved = await this.deps.store.seek(offset);
      if (moved.status === 'fenced' || moved.status === 'gone') return this.lose(moved.status);
      this.buffer = [];
      this.head = 0;
      this.bufferedBytes = 0;
      this.lastReadSeq = offset;
    } finally {
      this.paused = wasPaused;
      this.wake();
      this.deps.fetcher.request(this, true);
    }
  }

  /** The partition was lost: stop at once, abort the handlers' signal, acknowledge nothing more. */
  lose(reason: LossReason): void {
    if (this.lostReason !== undefined || this.state === 'closed') return;
    this.lostReason = reason;
    this.state = 'closed';
    this.buffer = [];
    this.head = 0;
    this.due = [];
    this.outcomes.drop();
    this.deps.lease.end();
    this.lossAbort.abort(new FencedError(this.topic, this.partition, this.deps.store.ref.group));
    this.haltAbort.abort();
    this.wake();
    this.deps.events.lost(this, reason);
  }

  /**
   * Stops starting messages, lets the handler in flight finish and writes what was decided; the
   * caller then releases the lease. Buffered messages stay pending for the next owner, which is no
   * duplicate: they were never handled.
   */
  async drain(): Promise<void> {
    if (this.active) this.state = 'draining';
    this.haltAbort.abort();
    this.wake();
    await this.loop;
    await this.outcomes.flush();
    if (this.state === 'draining') this.state = 'closed';
  }

  private async run(): Promise<void> {
    try {
      await this.recover();
      if (this.state === 'recovering') {
        this.state = 'running';
        this.deps.fetcher.request(this);
      }
      while (this.state === 'running') {
        if (!this.paused && this.dueCheckAt() <= performance.now()) this.takeDue();
        if (this.paused) {
          await this.waitForWork();
        } else if (this.due.length > 0) {
          if (!(await this.handle(this.due[0], 'delay'))) break;
          this.due.shift();
        } else if (this.head < this.buffer.length) {
          const entry = this.buffer[this.head];
          if (!(await this.handle(entry, 'log'))) break;
          this.consumeBuffered(entry);
        } else {
          await this.waitForWork();
        }
      }
    } catch (error) {
      this.deps.events.crash(error);
    }
  }

  /** Takes over, in offset order, what earlier owners of the partition left pending. */
  private async recover(): Promise<void> {
    let cursor = '0-0';
    do {
      if (this.state !== 'recovering') return;
      const claimed = await this.io('take over pending messages', () =>
        this.deps.store.claim(cursor, this.deps.maxBatchSize, this.deps.maxBytesPerPartition, Math.round(this.averageBytes)),
      );
      if (claimed === undefined) return;
      if (claimed.status !== 'ok') return this.lose(claimed.status);
      for (const range of rangesOf(claimed.deletedOffsets)) this.skipped(range);
      // A read of an earlier acquisition may have run past the position the lease was taken at:
      // those messages are claimed here, so reading resumes after them.
      const last = claimed.entries[claimed.entries.length - 1];
      if (last !== undefined) this.lastReadSeq = Math.max(this.lastReadSeq, last.offset + 1);
      for (const entry of claimed.entries) {
        while (this.paused && this.state === 'recovering') await this.waitForWork();
        if (!(await this.handle(entry, 'log'))) return;
      }
      cursor = claimed.cursor;
    } while (cursor !== '0-0');
  }

  /**
   * Handles one message until it succeeds, is parked for a later retry, or is dead-lettered.
   * Resolves false when the worker must stop first: the message then stays where it is.
   */
  private async handle(entry: LogEntry, source: MessageSource): Promise<boolean> {
    const { policy, store, events } = this.deps;
    let failed = entry.failure?.attempts ?? 0;
    let lastError: unknown = entry.failure?.error;
    for (;;) {
      if (!this.mayStart()) return false;
      const exhausted = decideBeforeAttempt(policy, failed, lastError as { name?: string } | undefined);
      if (exhausted !== undefined) return this.deadLetter(entry, source, exhausted, lastError);
      const release = await this.deps.slots.acquire();
      let outcome;
      try {
        if (!this.mayStart()) return false;
        outcome = await this.deps.runner.run(this.topic, this.partition, entry, failed + 1, this.controls);
      } finally {
        release();
      }
      if (outcome.ok) {
        if (this.lostReason === undefined) this.outcomes.ack(entry, source);
        return true;
      }
      if (this.lostReason !== undefined) return false;
      const decision = decideAfterFailure(policy, failed, outcome.reason, source);
      if (decision.kind === 'dead-letter') return this.deadLetter(entry, source, decision, outcome.error);
      const counted = outcome.reason === 'undecodable' ? failed : failed + 1;
      // A record of an attempt that will be retried keeps no stack: formatting one is the costly
      // part, and only the last failure's stack (taken when dead-lettering) is ever shown.
      const error = JSON.stringify(summarizeError(outcome.error, { stack: false }));
      const retry = { topic: this.topic, partition: this.partition, offset: entry.offset, attempt: counted + 1, delayMs: decision.delayMs, error: outcome.error };
      if (decision.kind === 'park') {
        // Until the batch lands the message is still pending (or taken), so nothing is lost by moving on.
        this.outcomes.park({ id: entry.id, messageId: entry.messageId, source, attempt: counted, delayMs: decision.delayMs, error, fields: entry.fields });
        this.expectDue(decision.delayMs);
        events.retry({ ...retry, mode: 'non-blocking' });
        return true;
      }
      if (counted > failed) {
        const recorded = await this.io('record a failed attempt', () => store.recordFailure(entry, counted, error));
        if (recorded === undefined) return false;
        if (recorded.status === 'fenced') return this.stop('fenced');
        // No longer pending here: an earlier call's outcome already moved it on.
        if (recorded.status === 'stale') return true;
        failed = recorded.attempts;
      }
      lastError = outcome.error;
      events.retry({ ...retry, mode: 'blocking' });
      // The wait holds no handler slot: other partitions go on meanwhile.
      await sleep(decision.delayMs, this.haltAbort.signal);
    }
  }

  private async deadLetter(entry: LogEntry, source: MessageSource, decision: DeadLetterDecision, error: unknown): Promise<boolean> {
    const diagnostics = deadLetterFields({
      topic: this.topic,
      partition: this.partition,
      offset: entry.offset,
      group: this.deps.store.ref.group,
      handler: this.deps.handlerName,
      attempts: decision.attempts,
      reason: decision.reason,
      error,
    });
    const reply = await this.io('dead-letter a message', () => this.deps.store.deadLetter(entry, source, decision.countsFailure, diagnostics));
    if (reply === undefined) return false;
    if (reply.status === 'fenced') return this.stop('fenced');
    if (reply.deadLetterId !== '') {
      this.deps.events.deadLetter({
        topic: this.topic,
        partition: this.partition,
        offset: entry.offset,
        reason: decision.reason,
        attempts: decision.attempts,
        error,
        deadLetterId: `${this.partition}-${reply.deadLetterId}`,
      });
    }
    return true;
  }

  /** Whether a handler may start now: the worker is not stopping and its lease surely holds. */
  private mayStart(): boolean {
    return this.active && this.deps.lease.valid;
  }

  private stop(reason: LossReason): false {
    this.lose(reason);
    return false;
  }

  private consumeBuffered(entry: LogEntry): void {
    this.head++;
    this.bufferedBytes -= entry.bytes;
    if (this.head > 1_000 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
    if (this.wanted() !== undefined) this.deps.fetcher.request(this);
  }

  /** When to ask the delay queue next: once a retry is due, but not before the batching window ends. */
  private dueCheckAt(): number {
    return this.taking ? Infinity : Math.max(this.dueAt, this.lastTakeAt + DUE_BATCH_WINDOW_MS);
  }

  private expectDue(msFromNow: number): void {
    if (!Number.isFinite(msFromNow)) return;
    const at = performance.now() + msFromNow;
    if (at < this.dueAt) {
      this.dueAt = at;
      this.wake();
    }
  }

  /** Takes due retries in the background, as the fetcher reads the log; they run at the next turn. */
  private takeDue(): void {
    this.taking = true;
    this.lastTakeAt = performance.now();
    this.dueAt = Infinity;
    void this.io('take due retries', () => this.deps.store.takeDue(this.deps.maxBatchSize, this.deps.maxBytesPerPartition))
      .then((taken) => {
        if (taken === undefined) return;
        if (taken.status === 'fenced') return this.lose('fenced');
        this.due.push(...taken.entries);
        this.expectDue(taken.msUntilNextDue);
      })
      .finally(() => {
        this.taking = false;
        this.wake();
      });
  }

  private skipped(range: OffsetRange): void {
    void this.deps.store.countSkipped(range.count).catch((error: unknown) => this.deps.events.reportError('count skipped messages', error));
    this.deps.events.skipped(range);
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
      const checkAt = this.dueCheckAt();
      if (!this.paused && Number.isFinite(checkAt)) timer = setTimeout(() => this.wake(), Math.max(0, checkAt - performance.now()));
    });
  }

  /**
   * Repeats a request through connection trouble until the worker is lost (then `undefined`). An
   * error retrying cannot fix (an error reply) gives the partition up: the member takes it back
   * later and starts over from what Redis holds.
   */
  private async io<T>(operation: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await retryRetriable(call, {
        operation,
        initialBackoffMs: 50,
        maxBackoffMs: 1_000,
        shouldStop: () => this.lostReason !== undefined,
        signal: this.lossAbort.signal,
        onRetry: (error) => this.deps.events.reportError(operation, error),
      });
    } catch (error) {
      this.deps.events.reportError(operation, error);
      this.lose('error');
      return undefined;
    }
  }
}
