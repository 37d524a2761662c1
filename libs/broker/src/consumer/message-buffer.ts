import type { LogEntry } from '../redis/packed-entries.js';

/**
 * Messages a worker read and has not handled yet, in offset order, with their size: what the worker
 * asks its fetcher for depends on how many messages and bytes are still here.
 */
export class MessageBuffer {
  private entries: LogEntry[] = [];
  private head = 0;
  private bytes = 0;
  /** The average size of the entries read last, to size the next read's first step. */
  averageBytes = 0;

  get length(): number {
    return this.entries.length - this.head;
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  /** The next message to handle, or undefined. */
  peek(): LogEntry | undefined {
    return this.head < this.entries.length ? this.entries[this.head] : undefined;
  }

  push(entries: readonly LogEntry[]): void {
    let bytes = 0;
    for (const entry of entries) bytes += entry.bytes;
    if (entries.length > 0) this.averageBytes = bytes / entries.length;
    this.bytes += bytes;
    this.entries.push(...entries);
  }

  /** Drops the message `peek` returned: it was handled. */
  shift(): void {
    const entry = this.entries[this.head];
    if (entry === undefined) return;
    this.head++;
    this.bytes -= entry.bytes;
    // Compact now and then rather than shifting an array on every message.
    if (this.head > 1_000 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
  }
}
