import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { retryRetriable } from '../client/io-retry.js';
import { sleep } from '../client/sleep.js';
import { deadLetterFields, summarizeError } from '../dead-letters/dead-letter-record.js';
import { FencedError } from '../errors/errors.js';
import type { LogEntry } from '../redis/packed-entries.js';
import type { AttemptTrace } from '../tracing/attempt-trace.js';
import { decideAfterFailure, decideBeforeAttempt, type DeadLetterDecision, type FailureReason } from '../retry/retry-decision.js';
import { DueRetries } from './due-retries.js';
import type { FetchTarget, FetchWant, Fetched } from './fetch-target.js';
import { gapBetween, rangesOf, type OffsetRange } from './gaps.js';
import type { PayloadControls } from './handler-runner.js';
import { Lane, laneKeyOf, type LaneItem } from './lanes.js';
import type { PartitionLease } from './lease.js';
import type { RenewableLease } from './lease-renewer.js';
import { MessageBuffer } from './message-buffer.js';
import { OutcomeBatcher } from './outcome-batcher.js';
import type { MessageSource } from './partition-store.js';
import { SlotHolder } from './semaphore.js';
import type { LossReason, WorkerDeps } from './worker-events.js';

export type { DeadLetterEvent, LossReason, RetryEvent, WorkerDeps, WorkerEvents } from './worker-events.js';

type State = 'recovering' | 'running' | 'draining' | 'closed';

/** How long a lane runs handlers back to back before the event loop gets a turn. */
const MAX_HANDLING_TURN_MS = 1;

/** What a failed attempt leads to: the message is finished with, the worker must stop, or it runs again. */
type AfterFailure = { kind: 'finished' } | { kind: 'stop' } | { kind: 'again'; failed: number; delayMs: number };

/**
 * Processes one owned partition, under one fencing token: first what earlier owners left pending,
 * then new messages, with due retries from the group's delay queue in between. Messages run on
 * lanes (see `Ordering`): one lane for the whole partition, one per key, or one per message; a lane
 * runs its messages one at a time in offset order, lanes run side by side within the consumer's
 * `concurrency`. It starts a handler only while its lease surely holds, acknowledges after the
 * handler resolved, and stops — aborting its handlers' signal — when it loses the partition.
 */
export class PartitionWorker implements FetchTarget, RenewableLease {
  readonly topic: string;
  readonly partition: number;
  readonly token: string;
  private state: State = 'recovering';
  private lostReason: LossReason | undefined;
  /** Read and not yet on a lane. */
  private readonly buffer = new MessageBuffer();
  private readonly due: DueRetries;
  /** Lanes with messages queued or running. */
  private readonly lanes = new Map<string, Lane>();
  private ownLanes = 0;
  /** Messages on lanes (queued or running): with the buffer, what this worker holds of the log. */
  private laneCount = 0;
  private laneBytes = 0;
  private lanesIdle: (() => void) | undefined;
  private fetching = false;
  private readFailed = false;
  private turnStartedAt = performance.now();
  private wakeLoop: (() => void) | undefined;
  private resumed: { promise: Promise<void>; resolve: () => void } | undefined;
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
      schedule: (send) => deps.writes.schedule(send),
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
    const { maxBytesPerPartition } = this.deps;
    const limit = this.aheadLimit();
    const held = this.buffer.length + this.laneCount;
    const heldBytes = this.buffer.bufferedBytes + this.laneBytes;
    if (held >= Math.max(1, Math.floor(limit / 2)) || heldBytes >= maxBytesPerPartition) return undefined;
    return {
      count: limit - held,
      maxBytes: maxBytesPerPartition - heldBytes,
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
    this.dispatch();
  }

  renewal(renewed: boolean, sentAt: number, msUntilNextDue: number): void {
    if (!renewed) return this.lose('fenced');
    this.deps.lease.renewed(sentAt);
    this.due.expect(msUntilNextDue);
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) {
      this.resume();
      this.dispatch();
      this.deps.fetcher.request(this);
    }
  }

  /**
   * Moves the group's position: handlers in flight finish first, messages read and not started are
   * dropped, reading resumes at `offset`.
   */
  async seek(offset: number): Promise<void> {
    const wasPaused = this.paused;
    this.paused = true;
    try {
      // Lanes waiting for the pause to end see their queue is empty and end.
      this.dropQueued();
      this.resume();
      await this.lanesSettled();
      await this.outcomes.flush();
      const moved = await this.deps.store.seek(offset);
      if (moved.status === 'fenced' || moved.status === 'gone') return this.lose(moved.status);
      this.buffer.clear();
      this.dropQueued();
      this.lastReadSeq = offset;
    } finally {
      this.paused = wasPaused;
      if (!wasPaused) this.resume();
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
    this.dropQueued();
    this.outcomes.drop();
    this.deps.lease.end();
    this.lossAbort.abort(new FencedError(this.topic, this.partition, this.deps.store.ref.group));
    this.haltAbort.abort();
    this.resume();
    this.wake();
    this.deps.events.lost(reason);
  }

  /**
   * Stops starting messages, lets the handlers in flight finish and writes what was decided; the
   * caller then releases the lease. Messages not started stay pending for the next owner, which is
   * no duplicate: they were never handled.
   */
  async drain(): Promise<void> {
    if (this.active) this.state = 'draining';
    this.haltAbort.abort();
    this.resume();
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
        if (!this.paused && this.due.checkAt() <= performance.now()) this.due.take();
        this.dispatch();
        await this.waitForWork();
      }
    } catch (error) {
      this.deps.events.crash(error);
    }
    this.dropQueued();
    await this.lanesSettled();
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
      this.buffer.push(claimed.entries);
      this.dispatch(true);
      // The next page once this one is mostly handled: what is held stays bounded.
      while (this.state === 'recovering' && this.buffer.length + this.laneCount > Math.floor(this.aheadLimit() / 2)) {
        this.dispatch(true);
        await this.waitForWork();
      }
      cursor = claimed.cursor;
    } while (cursor !== '0-0');
  }

  /** How many messages of the partition may be held (read, queued, running) at once. */
  private aheadLimit(): number {
    return this.deps.ordering === 'partition' ? this.deps.maxBatchSize : Math.max(this.deps.maxBatchSize, this.deps.concurrency);
  }

  /** Puts due retries, then read messages, on their lanes, starting lanes that were idle. */
  private dispatch(recovering = false): void {
    if (!(this.state === 'running' || (recovering && this.state === 'recovering')) || this.paused) return;
    for (let retry = this.due.peek(); retry !== undefined; retry = this.due.peek()) {
      this.due.shift();
      this.toLane({ entry: retry, source: 'delay' });
    }
    for (let entry = this.buffer.peek(); entry !== undefined; entry = this.buffer.peek()) {
      this.buffer.shift();
      this.toLane({ entry, source: 'log' });
    }
  }

  private toLane(item: LaneItem): void {
    this.laneCount++;
    this.laneBytes += item.entry.bytes;
    const key = laneKeyOf(this.deps.ordering, item.entry) ?? `#${++this.ownLanes}`;
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      lane = new Lane(key);
      this.lanes.set(key, lane);
      lane.push(item);
      void this.runLane(lane);
    } else {
      lane.push(item);
    }
  }

  /** Runs a lane's messages one at a time until it is empty or the worker stops. */
  private async runLane(lane: Lane): Promise<void> {
    const slot = new SlotHolder(this.deps.slots);
    try {
      while (lane.length > 0) {
        if (this.paused && this.active) {
          slot.free();
          await this.whenResumed();
          continue;
        }
        if (await this.giveTurn(slot)) continue;
        lane.busy = true;
        if (this.deps.batch === undefined) {
          const item = lane.peek()!;
          const finished = await this.handle(item, slot);
          lane.busy = false;
          if (!finished) break;
          lane.shift();
          this.handledOne(item);
        } else {
          const items = lane.peekRun(this.deps.maxBatchSize, this.deps.maxBytesPerPartition);
          const finished = await this.handleBatch(items, slot);
          lane.busy = false;
          if (!finished) break;
          lane.shift(items.length);
          for (const item of items) this.handledOne(item);
        }
      }
    } catch (error) {
      this.deps.events.crash(error);
      this.lose('error');
    } finally {
      slot.free();
      lane.busy = false;
      for (const item of lane.dropQueued()) this.handledOne(item);
      this.lanes.delete(lane.key);
      if (this.lanes.size === 0) this.lanesIdle?.();
      this.wake();
    }
  }

  /** A message left its lane (handled, or dropped when the worker stops): room to read more. */
  private handledOne({ entry }: LaneItem): void {
    this.laneCount--;
    this.laneBytes -= entry.bytes;
    if (this.wanted() !== undefined) this.deps.fetcher.request(this);
  }

  /** Forgets the messages queued on lanes and not started; they stay pending in Redis. */
  private dropQueued(): void {
    for (const lane of this.lanes.values()) for (const item of lane.dropQueued()) this.handledOne(item);
  }

  private lanesSettled(): Promise<void> {
    if (this.lanes.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.lanesIdle;
      this.lanesIdle = () => {
        this.lanesIdle = undefined;
        previous?.();
        resolve();
      };
    });
  }

  /**
   * Handles one message until it succeeds, is parked for a later retry, or is dead-lettered.
   * Resolves false when the worker must stop first: the message then stays where it is.
   */
  private async handle({ entry, source }: LaneItem, slot: SlotHolder): Promise<boolean> {
    const { policy } = this.deps;
    let failed = entry.failure?.attempts ?? 0;
    let lastError: unknown = entry.failure?.error;
    for (;;) {
      if (!this.mayStart()) return false;
      const exhausted = decideBeforeAttempt(policy, failed, lastError as { name?: string } | undefined);
      if (exhausted !== undefined) return this.deadLetter(entry, source, exhausted, lastError);
      await slot.hold();
      if (!this.mayStart()) return false;
      const outcome = await this.deps.runner!.run(this.topic, this.partition, entry, failed + 1, this.controls);
      if (outcome.ok) {
        // Lost meanwhile: nothing may be acknowledged any more; the next owner delivers it again.
        if (this.lostReason !== undefined) return false;
        this.outcomes.ack(entry, source);
        return true;
      }
      let next: AfterFailure;
      try {
        if (this.lostReason !== undefined) return false;
        next = await this.afterFailure(entry, source, failed, outcome.reason, outcome.error, outcome.trace);
      } finally {
        outcome.trace?.end();
      }
      if (next.kind !== 'again') return next.kind === 'finished';
      failed = next.failed;
      lastError = outcome.error;
      // The wait holds no handler slot: other lanes go on meanwhile.
      slot.free();
      await sleep(next.delayMs, this.haltAbort.signal);
    }
  }

  /**
   * Handles consecutive messages with the batch handler until each one succeeded (or was
   * resolved), was parked, or was dead-lettered; failures are decided per message, as for
   * `eachMessage`. Resolves false when the worker must stop first.
   */
  private async handleBatch(items: readonly LaneItem[], slot: SlotHolder): Promise<boolean> {
    const { policy } = this.deps;
    const source = items[0].source;
    let open = items.map(({ entry }) => ({ entry, failed: entry.failure?.attempts ?? 0, lastError: entry.failure?.error as unknown }));
    while (open.length > 0) {
      if (!this.mayStart()) return false;
      const runnable: typeof open = [];
      for (const message of open) {
        const exhausted = decideBeforeAttempt(policy, message.failed, message.lastError as { name?: string } | undefined);
        if (exhausted === undefined) runnable.push(message);
        else if (!(await this.deadLetter(message.entry, source, exhausted, message.lastError))) return false;
      }
      if (runnable.length === 0) return true;
      await slot.hold();
      if (!this.mayStart()) return false;
      const acknowledged = new Set<LogEntry>();
      const outcome = await this.deps.batch!.run(this.topic, this.partition, runnable.map(({ entry }) => entry), {
        ...this.controls,
        isRunning: () => this.mayStart(),
        resolved: (entries) => {
          if (this.lostReason !== undefined) return;
          for (const entry of entries) {
            acknowledged.add(entry);
            this.outcomes.ack(entry, source);
          }
        },
      });
      if (this.lostReason !== undefined || (outcome.stopped && outcome.resolved.length < runnable.length)) outcome.trace?.end();
      if (this.lostReason !== undefined) return false;
      for (const entry of outcome.resolved) if (!acknowledged.has(entry)) this.outcomes.ack(entry, source);
      // Returned early because the worker stops: the rest stays pending for the next owner.
      if (outcome.stopped && outcome.resolved.length < runnable.length) return false;
      const resolved = new Set(outcome.resolved);
      const failedNow = outcome.undecodable.map(({ entry, error }) => ({ entry, reason: 'undecodable' as FailureReason, error }));
      if (outcome.failure !== undefined) {
        for (const { entry } of runnable) if (!resolved.has(entry)) failedNow.push({ entry, ...outcome.failure });
      }
      const byEntry = new Map(runnable.map((message) => [message.entry, message]));
      const again: typeof open = [];
      let delayMs = 0;
      try {
        for (const { entry, reason, error } of failedNow) {
          const message = byEntry.get(entry)!;
          const next = await this.afterFailure(entry, source, message.failed, reason, error, outcome.trace);
          if (next.kind === 'stop') return false;
          if (next.kind === 'again') {
            again.push({ entry, failed: next.failed, lastError: error });
            delayMs = Math.max(delayMs, next.delayMs);
          }
        }
      } finally {
        outcome.trace?.end();
      }
      open = again;
      if (open.length > 0) {
        slot.free();
        await sleep(delayMs, this.haltAbort.signal);
      }
    }
    return true;
  }

  /** Decides and records what follows a failed attempt: dead letter, parked retry, or another attempt here. */
  private async afterFailure(entry: LogEntry, source: MessageSource, failed: number, reason: FailureReason, cause: unknown, trace?: AttemptTrace): Promise<AfterFailure> {
    const { policy, store, events } = this.deps;
    const decision = decideAfterFailure(policy, failed, reason, source);
    if (decision.kind === 'dead-letter') return (await this.deadLetter(entry, source, decision, cause, trace)) ? { kind: 'finished' } : { kind: 'stop' };
    const counted = reason === 'undecodable' ? failed : failed + 1;
    // A record of an attempt that will be retried keeps no stack: formatting one is the costly
    // part, and only the last failure's stack (taken when dead-lettering) is ever shown.
    const error = JSON.stringify(summarizeError(cause, { stack: false }));
    const retry = { topic: this.topic, partition: this.partition, offset: entry.offset, attempt: counted + 1, delayMs: decision.delayMs, error: cause };
    if (decision.kind === 'park') {
      // Until the batch lands the message is still pending (or taken), so nothing is lost by moving on.
      this.outcomes.park({ id: entry.id, messageId: entry.messageId, source, attempt: counted, delayMs: decision.delayMs, error, fields: entry.fields });
      this.due.expect(decision.delayMs);
      trace?.retried(entry.offset, counted + 1, decision.delayMs, 'non-blocking');
      events.retry({ ...retry, mode: 'non-blocking' });
      return { kind: 'finished' };
    }
    let attempts = failed;
    if (counted > failed) {
      const recorded = await this.io('record a failed attempt', () => store.recordFailure(entry, counted, error));
      if (recorded === undefined) return { kind: 'stop' };
      if (recorded.status === 'fenced') {
        this.lose('fenced');
        return { kind: 'stop' };
      }
      // No longer pending here: an earlier call's outcome already moved it on.
      if (recorded.status === 'stale') return { kind: 'finished' };
      attempts = recorded.attempts;
    }
    trace?.retried(entry.offset, counted + 1, decision.delayMs, 'blocking');
    events.retry({ ...retry, mode: 'blocking' });
    return { kind: 'again', failed: attempts, delayMs: decision.delayMs };
  }

  private async deadLetter(entry: LogEntry, source: MessageSource, decision: DeadLetterDecision, error: unknown, trace?: AttemptTrace): Promise<boolean> {
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
      trace?.deadLettered(entry.offset, reason, attempts, deadLetterId);
      this.deps.events.deadLetter({ topic: this.topic, partition: this.partition, offset: entry.offset, reason, attempts, error, deadLetterId });
    }
    return true;
  }

  /**
   * Handlers that resolve at once never let I/O in: after a millisecond of them, the event loop gets
   * a turn (replies are read, the next fetch, acknowledgements and lease renewals are sent), and
   * other lanes waiting for a handler slot get theirs. Resolves whether it gave one.
   */
  private async giveTurn(slot: SlotHolder): Promise<boolean> {
    if (performance.now() - this.turnStartedAt < MAX_HANDLING_TURN_MS) return false;
    slot.free();
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

  private whenResumed(): Promise<void> {
    this.resumed ??= (() => {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      return { promise, resolve };
    })();
    return this.resumed.promise;
  }

  private resume(): void {
    const resumed = this.resumed;
    this.resumed = undefined;
    resumed?.resolve();
  }

  private wake(): void {
    const wake = this.wakeLoop;
    this.wakeLoop = undefined;
    wake?.();
  }

  private waitForWork(): Promise<void> {
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
