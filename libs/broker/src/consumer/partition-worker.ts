import { setImmediate as nextTurn } from 'node:timers/promises';
import type { BrookContext } from '../client/context.js';
import type { Codec } from '../codec/codec.js';
import type { ReceivedMessage } from '../message/message.js';
import { decodeValue, readEntry } from '../message/wire.js';
import { runScript, runScriptBuffer } from '../redis/scripts.js';
import { backoffDelay, sleep, type BackoffPolicy } from './backoff.js';
import { seqOf, toEntries, type FetchedEntry } from './entry.js';
import type { Fetcher } from './fetcher.js';
import type { Semaphore } from './semaphore.js';

/** What a handler receives for each message. */
export interface EachMessagePayload<V = unknown> {
  topic: string;
  partition: number;
  message: ReceivedMessage<V>;
  /** 1 for the first delivery; counts failed attempts recorded before, also by earlier owners. */
  attempt: number;
  /** Renews this member's session and leases now; only needed around long synchronous work. */
  heartbeat(): Promise<void>;
  /** Pauses this partition after the current message; call the returned function to resume it. */
  pause(): () => void;
  /** Aborted when this member loses the partition: stop work whose result can no longer be committed. */
  signal: AbortSignal;
}

export type EachMessageHandler<V = unknown> = (payload: EachMessagePayload<V>) => Promise<void>;

/** Why a worker lost its partition. */
export type LossReason = 'fenced' | 'gone';

/** What a partition worker needs from its consumer. */
export interface WorkerHost {
  readonly ctx: BrookContext;
  readonly group: string;
  readonly memberId: string;
  readonly leaseMs: number;
  readonly maxBatchSize: number;
  readonly codec: Codec;
  readonly handler: EachMessageHandler;
  readonly backoff: BackoffPolicy;
  readonly slots: Semaphore;
  readonly fetcher: Fetcher;
  heartbeat(): Promise<void>;
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
  reportError(operation: string, error: unknown): void;
  onSkipped(topic: string, partition: number, offsets: number[]): void;
  onRetry(topic: string, partition: number, offset: number, attempt: number, delayMs: number, error: unknown): void;
  onLost(worker: PartitionWorker, reason: LossReason): void;
  onCrash(error: unknown): void;
}

type State = 'recovering' | 'running' | 'draining' | 'closed';
type ClaimReply = [status: number, cursor?: Buffer, entries?: Array<[Buffer, Buffer[]]>, deleted?: Buffer[], failures?: Array<Buffer | null>];

/** How long one partition runs handlers back to back before the event loop gets a turn. */
const MAX_HANDLING_TURN_MS = 1;

/**
 * Processes one owned partition: first what previous owners left pending (in offset order), then new
 * messages, one at a time; acknowledges after each handler resolved, batching acknowledgements
 * while one is in flight. It never starts a handler unless the lease is known valid, and every
 * acknowledgement is fenced by the lease in Redis.
 */
export class PartitionWorker {
  readonly logKey: string;
  readonly leaseKey: string;
  readonly fetchKeys: [string, string];
  private readonly attemptsKey: string;
  private readonly statsKey: string;
  private state: State = 'recovering';
  private lostReason: LossReason | undefined;
  private buffer: FetchedEntry[] = [];
  private head = 0;
  private fetching = false;
  private paused = false;
  private leaseValidUntil: number;
  private leaseWaiters: Array<() => void> = [];
  private wakeLoop: (() => void) | undefined;
  /** Aborted when the partition is lost: handlers see it as `signal`. */
  private readonly lossAbort = new AbortController();
  /** Aborted when the worker must stop starting work (revoked, lost or stopping). */
  private readonly haltAbort = new AbortController();
  private ackIds: string[] = [];
  private ackInFlight: Promise<void> | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly host: WorkerHost,
    readonly topic: string,
    readonly partition: number,
    private lastReadSeq: number,
    leaseAcquiredAt: number,
    paused: boolean,
  ) {
    const { keys } = host.ctx;
    this.logKey = keys.log(topic, partition);
    this.leaseKey = keys.lease(topic, partition, host.group);
    this.attemptsKey = keys.attempts(topic, partition, host.group);
    this.statsKey = keys.stats(topic, partition, host.group);
    this.fetchKeys = [this.logKey, this.leaseKey];
    this.leaseValidUntil = this.validUntil(leaseAcquiredAt);
    this.paused = paused;
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
      const skipped = Array.from({ length: firstSeq - this.lastReadSeq - 1 }, (_, i) => this.lastReadSeq + i);
      this.host.onSkipped(this.topic, this.partition, skipped);
    }
    this.lastReadSeq = seqOf(entries[entries.length - 1].id);
    this.buffer.push(...entries);
    this.wake();
  }

  /** The lease was renewed by a request sent at `sentAt` (performance.now()). */
  leaseRenewed(sentAt: number): void {
    this.leaseValidUntil = Math.max(this.leaseValidUntil, this.validUntil(sentAt));
    for (const waiter of this.leaseWaiters.splice(0)) waiter();
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
      await this.flushAcks();
      const moved = await runScript<number>(this.host.ctx.client, 'reset-offset', [this.logKey, this.leaseKey], [this.host.group, offset, this.host.memberId, '0']);
      if (moved !== 1) return;
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
    this.ackIds = [];
    this.lossAbort.abort();
    this.haltAbort.abort();
    for (const waiter of this.leaseWaiters.splice(0)) waiter();
    this.wake();
    this.host.onLost(this, reason);
  }

  /**
   * Stops starting new messages, lets the handler in flight finish, acknowledges what was
   * processed; the caller then releases the lease. Buffered messages stay pending in Redis for the
   * next owner, which is not a duplicate: they were never handled.
   */
  async drain(): Promise<void> {
    if (this.state === 'recovering' || this.state === 'running') this.state = 'draining';
    this.haltAbort.abort();
    this.wake();
    for (const waiter of this.leaseWaiters.splice(0)) waiter();
    await this.loop;
    await this.flushAcks();
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
      this.wakeLoop = resolve;
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
        if (this.paused || this.head >= this.buffer.length) {
          await this.waitForWork();
          continue;
        }
        await this.processBuffered();
      }
    } catch (error) {
      this.host.onCrash(error);
    }
  }

  private async recover(): Promise<void> {
    let cursor = '0-0';
    do {
      if (this.state !== 'recovering') return;
      const reply = await this.withRetry('claim pending messages', () =>
        runScriptBuffer<ClaimReply>(this.host.ctx.client, 'claim', [this.logKey, this.leaseKey, this.attemptsKey], [
          this.host.group,
          this.host.memberId,
          cursor,
          this.host.maxBatchSize,
        ]),
      );
      if (reply === undefined) return;
      const [status, next, raw, deleted, failures] = reply;
      if (status === 0) return this.lose('fenced');
      if (status === -1) return this.lose('gone');
      if (deleted && deleted.length > 0) {
        this.host.onSkipped(this.topic, this.partition, deleted.map((id) => seqOf(id.toString('latin1')) - 1));
      }
      this.buffer = toEntries(raw ?? [], failures);
      this.head = 0;
      while (this.state === 'recovering' && this.head < this.buffer.length) {
        if (this.paused) await this.waitForWork();
        else await this.processBuffered();
      }
      cursor = next!.toString('latin1');
    } while (cursor !== '0-0');
    this.buffer = [];
    this.head = 0;
  }

  /** Runs handlers over buffered messages while holding one concurrency slot. */
  private async processBuffered(): Promise<void> {
    const release = await this.host.slots.acquire();
    const startedAt = performance.now();
    try {
      for (let n = 0; n < this.host.maxBatchSize && this.active && !this.paused && this.head < this.buffer.length; n++) {
        if (!(await this.process(this.buffer[this.head]))) break;
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

  /** Handles one message until it succeeds; false when the worker must stop before that. */
  private async process(entry: FetchedEntry): Promise<boolean> {
    let failures = entry.failure?.attempts ?? 0;
    for (;;) {
      if (!(await this.leaseIsValid())) return false;
      try {
        const raw = readEntry(entry.fields);
        const message: ReceivedMessage = {
          offset: entry.offset,
          key: raw.key,
          value: decodeValue(raw, this.host.codec),
          headers: raw.headers,
          timestamp: raw.timestamp,
        };
        await this.host.handler({
          topic: this.topic,
          partition: this.partition,
          message,
          attempt: failures + 1,
          heartbeat: () => this.host.heartbeat(),
          pause: () => {
            this.host.pause(this.topic, this.partition);
            return () => this.host.resume(this.topic, this.partition);
          },
          signal: this.lossAbort.signal,
        });
        if (this.lostReason === undefined) this.acknowledge(entry.id);
        return true;
      } catch (error) {
        failures++;
        if (!this.active) return false;
        const recorded = await this.recordFailure(entry, error);
        if (!recorded || !this.active) return false;
        const delayMs = backoffDelay(this.host.backoff, failures);
        this.host.onRetry(this.topic, this.partition, entry.offset, failures + 1, delayMs, error);
        await sleep(delayMs, this.haltAbort.signal);
      }
    }
  }

  /** True when the lease is valid now; waits for a renewal when its local deadline passed. */
  private async leaseIsValid(): Promise<boolean> {
    while (this.active && performance.now() >= this.leaseValidUntil) {
      await new Promise<void>((resolve) => this.leaseWaiters.push(resolve));
    }
    return this.active;
  }

  private async recordFailure(entry: FetchedEntry, error: unknown): Promise<boolean> {
    const summary = summarizeError(error);
    const attempts = await this.withRetry('record a failed attempt', () =>
      runScript<number>(this.host.ctx.client, 'record-failure', [this.leaseKey, this.attemptsKey, this.statsKey], [
        this.host.memberId,
        entry.id,
        Date.now(),
        JSON.stringify(summary),
      ]),
    );
    if (attempts === -1) {
      this.lose('fenced');
      return false;
    }
    return true;
  }

  private acknowledge(id: string): void {
    this.ackIds.push(id);
    this.sendAcks();
  }

  private sendAcks(): void {
    if (this.ackInFlight !== undefined || this.ackIds.length === 0) return;
    const ids = this.ackIds;
    this.ackIds = [];
    this.ackInFlight = this.ack(ids).finally(() => {
      this.ackInFlight = undefined;
      this.sendAcks();
    });
  }

  private async flushAcks(): Promise<void> {
    while (this.ackInFlight !== undefined || this.ackIds.length > 0) {
      this.sendAcks();
      await this.ackInFlight;
    }
  }

  private async ack(ids: string[]): Promise<void> {
    const acked = await this.withRetry(
      'acknowledge messages',
      () => runScript<number>(this.host.ctx.client, 'ack', [this.logKey, this.leaseKey, this.attemptsKey, this.statsKey], [this.host.group, this.host.memberId, ...ids]),
      // Past the lease the acknowledgement would be refused anyway; the next owner redelivers.
      () => this.lostReason !== undefined || performance.now() >= this.leaseValidUntil,
    );
    if (acked === -1) this.lose('fenced');
  }

  /**
   * Retries a Redis call through connection trouble with capped backoff. Gives up (resolving
   * undefined) once `giveUp` says so or the partition is lost.
   */
  private async withRetry<T>(operation: string, call: () => Promise<T>, giveUp: () => boolean = () => this.lostReason !== undefined): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        this.host.reportError(operation, error);
        if (giveUp()) return undefined as T;
        await sleep(Math.min(50 * 2 ** attempt, 2_000));
        if (giveUp()) return undefined as T;
      }
    }
  }
}

const MAX_STACK_CHARS = 4_000;

/** A bounded, JSON-safe description of whatever a handler threw. */
export function summarizeError(error: unknown): { name: string; message: string; stack?: string } {
  if (error instanceof Error) {
    return { name: error.name, message: error.message.slice(0, 1_000), stack: error.stack?.slice(0, MAX_STACK_CHARS) };
  }
  return { name: 'NonError', message: String(error).slice(0, 1_000) };
}
