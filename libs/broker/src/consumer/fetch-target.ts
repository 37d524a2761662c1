import type { LogEntry } from '../redis/packed-entries.js';

/** How much a partition wants from its next read. */
export interface FetchWant {
  count: number;
  maxBytes: number;
  /** Its estimate of one entry's size (0 when unknown), so the read sizes its first step. */
  averageBytes: number;
  /** Its last read failed (its reply may have been lost): look for what it may have delivered. */
  recheck: boolean;
}

/** What a read brought for one partition. */
export type Fetched = { status: 'ok'; entries: LogEntry[] } | { status: 'fenced' | 'gone' };

/**
 * The narrow seam between fetchers and partition workers: a fetcher sees a partition only through
 * this — where it reads, with which token, how much it wants — and hands back what it read.
 */
export interface FetchTarget {
  readonly topic: string;
  readonly partition: number;
  readonly token: string;
  /** The ID of the last message it received (`0-<offset + 1>`). */
  readonly position: string;
  /** What it wants now, or undefined (paused, buffer full, a read in flight, not running). */
  wanted(): FetchWant | undefined;
  /** A read for it was sent: no second one until `fetched`. */
  fetchStarted(): void;
  /** The read came back (or failed: `undefined`). */
  fetched(result: Fetched | undefined): void;
}

/** How a worker asks its fetcher for more. */
export interface FetchRequester {
  /** `target` has room; `moved`: its position changed (seek), so a read waiting on the old one must end. */
  request(target: FetchTarget, moved?: boolean): void;
}
