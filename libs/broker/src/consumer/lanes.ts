import type { LogEntry } from '../redis/packed-entries.js';
import { keyIdentityOf } from '../redis/packed-entries.js';
import type { MessageSource } from './partition-store.js';

/**
 * Which messages of a partition must run one after another:
 * - `'partition'` — all of them, in offset order (Kafka's model);
 * - `'key'` — those with the same key, in offset order; different keys run in parallel, and each
 *   keyless message runs on its own;
 * - `'none'` — none: any message may run as soon as a handler slot is free.
 */
export type Ordering = 'partition' | 'key' | 'none';

export const ORDERINGS: readonly Ordering[] = ['partition', 'key', 'none'];

/** A message a lane will handle, and where it came from. */
export interface LaneItem {
  entry: LogEntry;
  source: MessageSource;
}

/** Messages that must run one after another, in the order queued. */
export class Lane {
  private items: LaneItem[] = [];
  private head = 0;
  /** A handler of this lane is running (the item at the head is being handled). */
  busy = false;

  constructor(readonly key: string) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: LaneItem): void {
    this.items.push(item);
  }

  peek(): LaneItem | undefined {
    return this.items[this.head];
  }

  /** The next `count` items from the same source as the first, within `maxBytes` (at least one). */
  peekRun(count: number, maxBytes: number): LaneItem[] {
    const first = this.items[this.head];
    if (first === undefined) return [];
    const run = [first];
    let bytes = first.entry.bytes;
    for (let i = this.head + 1; i < this.items.length && run.length < count; i++) {
      const item = this.items[i];
      if (item.source !== first.source || bytes + item.entry.bytes > maxBytes) break;
      run.push(item);
      bytes += item.entry.bytes;
    }
    return run;
  }

  /** Drops the first `count` items (handled). */
  shift(count = 1): void {
    this.head += count;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1_000 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Forgets what is queued and not started; returns it. */
  dropQueued(): LaneItem[] {
    const keep = this.busy ? 1 : 0;
    const dropped = this.items.slice(this.head + keep);
    this.items.length = this.head + keep;
    return dropped;
  }
}

/** The lane a message runs on; `undefined` for a lane of its own. */
export function laneKeyOf(ordering: Ordering, entry: LogEntry): string | undefined {
  switch (ordering) {
    case 'partition':
      return '';
    case 'key': {
      const key = keyIdentityOf(entry);
      // A prefix keeps a key from meeting a message's own lane (an ID) or the partition's ('').
      return key === null ? undefined : `k${key}`;
    }
    case 'none':
      return undefined;
  }
}
