import { Redis } from 'ioredis';
import type { RedisClient } from './scripts.js';

/**
 * Gathers requests and sends them together: they run at the end of the event loop's turn (at most
 * once a millisecond), with the connection's socket corked, so many small requests (the
 * acknowledgements of many partitions) leave in one write instead of one system call each. On a
 * Cluster connection, whose sockets are per node, the requests are only gathered.
 */
const MIN_FLUSH_INTERVAL_MS = 1;

export class WriteCoalescer {
  private pending: Array<() => void> = [];
  private lastFlushAt = 0;

  constructor(private readonly client: RedisClient) {}

  /** Runs `send` in the next flush; `send` must issue its requests synchronously. */
  schedule(send: () => void): void {
    this.pending.push(send);
    if (this.pending.length !== 1) return;
    // At most one write per millisecond: a busy consumer's acknowledgements pile up a little longer
    // and leave together; an idle one's leave at the end of the turn.
    const sinceLast = performance.now() - this.lastFlushAt;
    if (sinceLast >= MIN_FLUSH_INTERVAL_MS) setImmediate(() => this.flush());
    else setTimeout(() => this.flush(), MIN_FLUSH_INTERVAL_MS - sinceLast);
  }

  private flush(): void {
    this.lastFlushAt = performance.now();
    const sends = this.pending;
    this.pending = [];
    const stream = this.client instanceof Redis && this.client.status === 'ready' ? this.client.stream : undefined;
    stream?.cork();
    try {
      for (const send of sends) send();
    } finally {
      if (stream !== undefined) process.nextTick(() => stream.uncork());
    }
  }
}
