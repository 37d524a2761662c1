import type { LogEntry } from '../redis/packed-entries.js';
import type { DueResult } from './partition-store.js';

/** Due retries are taken at most this often, so a stream of failures costs one round trip per window. */
const DUE_BATCH_WINDOW_MS = 50;

/** What due retries need from their worker. */
export interface DueRetriesHost {
  /** Takes the due messages from Redis; undefined when the worker is gone. */
  take(): Promise<DueResult | undefined>;
  fenced(): void;
  /** Something changed: the worker loop should look again. */
  wake(): void;
}

/**
 * The retries of a partition that came due in the group's delay queue: when to ask for them next
 * (the earliest due time Redis reported, but not more often than a batching window) and the ones
 * taken and not handled yet. Taking runs in the background, as the fetcher reads the log; the
 * worker handles them at its next turn.
 */
export class DueRetries {
  private due: LogEntry[] = [];
  /** performance.now() when the next retry is expected; 0 asks at once, Infinity never. */
  private dueAt = 0;
  private lastTakeAt = -Infinity;
  private taking = false;

  constructor(private readonly host: DueRetriesHost) {}

  peek(): LogEntry | undefined {
    return this.due[0];
  }

  shift(): void {
    this.due.shift();
  }

  clear(): void {
    this.due = [];
  }

  /** When to ask Redis next (performance.now()), Infinity while a take is on its way or nothing is expected. */
  checkAt(): number {
    return this.taking ? Infinity : Math.max(this.dueAt, this.lastTakeAt + DUE_BATCH_WINDOW_MS);
  }

  /** A retry is due `msFromNow` from now (a renewal or a take said so, or one was just parked). */
  expect(msFromNow: number): void {
    if (!Number.isFinite(msFromNow)) return;
    const at = performance.now() + msFromNow;
    if (at < this.dueAt) {
      this.dueAt = at;
      this.host.wake();
    }
  }

  /** Takes what is due now in the background. */
  take(): void {
    this.taking = true;
    this.lastTakeAt = performance.now();
    this.dueAt = Infinity;
    void this.host
      .take()
      .then((taken) => {
        if (taken === undefined) return;
        if (taken.status === 'fenced') return this.host.fenced();
        this.due.push(...taken.entries);
        this.expect(taken.msUntilNextDue);
      })
      .finally(() => {
        this.taking = false;
        this.host.wake();
      });
  }
}
