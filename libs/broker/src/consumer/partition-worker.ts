import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { retryRetriable } from '../client/io-retry.js';
import { sleep } from '../client/sleep.js';
import { deadLetterFields, summarizeError } from '../dead-letters/dead-letter-record.js';
import { FencedError } from '../errors/errors.js';
import type { LogEntry } from '../redis/packed-entries.js';
import { decideAfterFailure, decideBeforeAttempt, type DeadLetterDecision } from '../retry/retry-decision.js';
import { DueRetries } from './due-retries.js';
import type { FetchTarget, FetchWant, Fetched } from './fetch-target.js';
import { gapBetween, rangesOf, type OffsetRange } from './gaps.js';
import type { PayloadControls } from './handler-runner.js';
import type { PartitionLease } from './lease.js';
import type { RenewableLease } from './lease-renewer.js';
import { MessageBuffer } from './message-buffer.js';
import { OutcomeBatcher } from './outcome-batcher.js';
import type { MessageSource } from './partition-store.js';
import type { LossReason, WorkerDeps } from './worker-events.js';

export type { DeadLetterEvent, LossReason, RetryEvent, WorkerDeps, WorkerEvents } from './worker-events.js';

type State = 'recovering' | 'running' | 'draining' | 'closed';

/** How long a worker runs handlers back to back before the event loop gets a turn. */
const MAX_HANDLING_TURN_MS = 1;

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
  private readonly buffer = new MessageBuffer();
  private readonly due: DueRetries;
  private fetching = false;
  private readFailed = false;
  private turnStartedAt = performance.now();
  /** The handler slot this worker holds for its turn. */
  private slot: (() => void) | undefined;
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
    this.due = new DueRetries({
      take: () => this.io('take due retries', () => deps.store.takeDue(deps.maxBatchSize, deps.maxBytesPerPartition)),
      fenced: () => this.lose('fenced'),
      wake: () => this.wake(),
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
    const { maxBatchSize, maxBytesPerPartition } = this.deps;
    const buffered = this.buffer.length;
    if (buffered >= Math.max(1, Math.floor(maxBatchSize / 2)) || this.buffer.bufferedBytes >= maxBytesPerPartition) return undefined;
    return {
      count: maxBatchSize - buffered,
      maxBytes: maxBytesPerPartition - this.buffer.bufferedBytes,
      averageBytes: Math.round(this.buffer.averageBytes),
      recheck: this.readFailed,
    };
  }

  fetchStarted(): void {
    this.fetching = true;
  }

  fetched(result: Fetched | undefined): void {
    this.fetching = false;
    // A failed read may have delivered entries whose reply never came: the next read looks for them.
    this.readFailed = result === undefined;
    if (result === undefined) return;
    if (result.status !== 'ok') return this.lose(result.status);
    if (this.state !== 'running' || result.entries.length === 0) return;
    const { entries } = result;
    // Offsets went back: Redis lost writes under this worker. Nothing it holds can be trusted.
    if (entries[0].offset < this.lastReadSeq) return this.lose('in-doubt');
    const gap = gapBetween(this.lastReadSeq - 1, entries[0].offset);
    if (gap !== undefined) this.skipped(gap);
    this.buffer.push(entries);
    const last = entries[entries.length - 1];
    this.lastReadSeq = last.offset + 1;
    this.deps.events.lastRead(last.offset, last.messageId);
    this.wake();
  }

  renewal(renewed: boolean, sentAt: number, msUntilNextDue: number): void {
    if (!renewed) return this.lose('fenced');
    this.deps.lease.renewed(sentAt);
    this.due.expect(msUntilNextDue);
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
      this.buffer.clear();
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
    this.buffer.clear();
    this.due.clear();
    this.outcomes.drop();
    this.deps.lease.end();
    this.lossAbort.abort(new FencedError(this.topic, this.partition, this.deps.store.ref.group));
    this.haltAbort.abort();
    this.wake();
    this.deps.events.lost(reason);
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
    // Past the lease's end nothing more can be written (the lease expiry loses the worker, which
    // stops the retries); a request stuck on a stalled Redis is not waited for beyond it.
    await Promise.race([this.outcomes.flush(), this.lossAbort.signal.aborted ? undefined : once(this.lossAbort.signal, 'abort')]);
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
        // A drain or a loss may have come in during the turn.
        if (await this.giveTurn()) continue;
        if (!this.paused && this.due.checkAt() <= performance.now()) this.due.take();
        const retry = this.due.peek();
        const entry = retry ?? this.buffer.peek();
        if (this.paused || entry === undefined) {
          await this.waitForWork();
          continue;
        }
        if (!(await this.handle(entry, retry === undefined ? 'log' : 'delay'))) break;
        if (retry !== undefined) {
          this.due.shift();
        } else {
          this.buffer.shift();
          if (this.wanted() !== undefined) this.deps.fetcher.request(this);
        }
      }
    } catch (error) {
      this.deps.events.crash(error);
    } finally {
      this.releaseSlot();
    }
  }

  /** Takes over, in offset order, what earlier owners of the partition left pending. */
  private async recover(): Promise<void> {
    let cursor = '0-0';
    do {
      if (this.state !== 'recovering') return;
      const claimed = await this.io('take over pending messages', () =>
        this.deps.store.claim(cursor, this.deps.maxBatchSize, this.deps.maxBytesPerPartition, Math.round(this.buffer.averageBytes)),
      );
      if (claimed === undefined) return;
      if (claimed.status !== 'ok') return this.lose(claimed.status);
      for (const range of rangesOf(claimed.deletedOffsets)) this.skipped(range);
      // A read of an earlier acquisition may have run past the position the lease was taken at:
      // those messages are claimed here, so reading resumes after them.
      const last = claimed.entries[claimed.entries.length - 1];
      if (last !== undefined) this.lastReadSeq = Math.max(this.lastReadSeq, last.offset + 1);
      for (const entry of claimed.entries) {
        await this.giveTurn();
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
      await this.holdSlot();
      if (!this.mayStart()) return false;
      const outcome = await this.deps.runner.run(this.topic, this.partition, entry, failed + 1, this.controls);
      if (outcome.ok) {
        // Lost meanwhile: nothing may be acknowledged any more; the next owner delivers it again.
        if (this.lostReason !== undefined) return false;
        this.outcomes.ack(entry, source);
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
        this.due.expect(decision.delayMs);
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
      this.releaseSlot();
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
      const { reason, attempts } = decision;
      const deadLetterId = `${this.partition}-${reply.deadLetterId}`;
      this.deps.events.deadLetter({ topic: this.topic, partition: this.partition, offset: entry.offset, reason, attempts, error, deadLetterId });
    }
    return true;
  }

  /**
   * Handlers that resolve at once never let I/O in: after a millisecond of them, the event loop gets
   * a turn (replies are read, the next fetch, acknowledgements and lease renewals are sent).
   * Resolves whether it gave one.
   */
  private async giveTurn(): Promise<boolean> {
    if (performance.now() - this.turnStartedAt < MAX_HANDLING_TURN_MS) return false;
    // Other partitions waiting for a handler slot get theirs now.
    this.releaseSlot();
    await nextTurn();
    this.turnStartedAt = performance.now();
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

  private skipped(range: OffsetRange): void {
    void this.deps.store.countSkipped(range.count).catch((error: unknown) => this.deps.events.reportError('count skipped messages', error));
    this.deps.events.skipped(range);
  }

  private wake(): void {
    const wake = this.wakeLoop;
    this.wakeLoop = undefined;
    wake?.();
  }

  /**
   * Takes a handler slot (`concurrency`) unless this worker holds one: a worker keeps its slot for
   * its turn, so handlers that resolve at once do not hand the slot around after each message.
   */
  private async holdSlot(): Promise<void> {
    if (this.slot !== undefined) return;
    this.slot = this.deps.slots.tryAcquire() ?? (await this.deps.slots.acquire());
  }

  private releaseSlot(): void {
    const release = this.slot;
    this.slot = undefined;
    release?.();
  }

  private waitForWork(): Promise<void> {
    this.releaseSlot();
    return new Promise((resolve) => {
      // Stopping: nothing to wait for (a wake-up sent before this wait began would be missed).
      if (!this.active) return resolve();
      let timer: NodeJS.Timeout | undefined;
      this.wakeLoop = () => {
        clearTimeout(timer);
        resolve();
      };
      const checkAt = this.due.checkAt();
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
