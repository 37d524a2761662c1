import { Cluster } from 'ioredis';
import type { BrookContext } from '../client/context.js';
import { runScriptBuffer, type RedisClient } from '../redis/scripts.js';
import { sleep } from './backoff.js';
import { toEntries } from './entry.js';
import type { PartitionWorker } from './partition-worker.js';

type FetchReply = [status: number, entries?: Array<[Buffer, Buffer[]]>];

/** What the fetcher needs from its consumer. */
export interface FetcherHost {
  readonly group: string;
  readonly memberId: string;
  readonly maxWaitTimeMs: number;
  readonly pollIntervalMs: number;
  reportError(operation: string, error: unknown): void;
}

/**
 * Reads new messages for every partition worker that has room, in one fenced script for all of them
 * on a single Redis (one script per partition on Cluster). When none had anything new it waits:
 * on a single Redis with one blocking `XREAD` over all those partitions plus a private wake-up
 * stream (a worker that needs data while the read is blocked appends to that stream, which also
 * covers the moment before the read reached the server); on Cluster, where one read cannot span
 * slots, by polling with a delay that grows to `pollIntervalMs` while idle.
 */
export class Fetcher {
  private readonly workers = new Set<PartitionWorker>();
  private running = false;
  private loop: Promise<void> | undefined;
  private idle: (() => void) | undefined;
  private dirty = false;
  private blockedOn: Set<PartitionWorker> | undefined;
  private wakeId = '0-0';
  private readonly wakeKey: string;
  private readonly polling: boolean;
  private pollDelayMs = 1;
  private pollAbort: AbortController | undefined;
  private errorDelayMs = 0;

  constructor(
    private readonly ctx: BrookContext,
    private readonly host: FetcherHost,
    private readonly blocking: RedisClient | undefined,
  ) {
    this.polling = blocking === undefined || ctx.client instanceof Cluster;
    this.wakeKey = `${ctx.keys.prefix}:{__member:${host.memberId}}:wake`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  add(worker: PartitionWorker): void {
    this.workers.add(worker);
  }

  remove(worker: PartitionWorker): void {
    this.workers.delete(worker);
  }

  /**
   * A worker has room for more messages. `moved`: its position changed (seek), so a blocking read
   * waiting on its old position must be cut short too.
   */
  request(worker: PartitionWorker, moved = false): void {
    this.dirty = true;
    if (this.idle) {
      this.idle();
      return;
    }
    if (this.blockedOn && (moved || !this.blockedOn.has(worker))) this.wake();
    this.pollAbort?.abort();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.idle?.();
    this.pollAbort?.abort();
    if (this.blockedOn) this.wake();
    await this.loop;
    if (!this.polling) await this.ctx.client.del(this.wakeKey).catch(() => undefined);
  }

  private wake(): void {
    this.blockedOn = undefined;
    // The key expires if this process dies; a blocked XREAD on it is then simply idle.
    void Promise.all([this.ctx.client.xadd(this.wakeKey, 'MAXLEN', '1', '*', 'w', '1'), this.ctx.client.pexpire(this.wakeKey, 60_000)]).catch(
      (error: unknown) => this.host.reportError('wake the fetcher', error),
    );
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.dirty = false;
      const wanted = [...this.workers].filter((worker) => worker.wantedCount() > 0);
      if (wanted.length === 0) {
        await new Promise<void>((resolve) => {
          this.idle = resolve;
          if (this.dirty || !this.running) resolve();
        });
        this.idle = undefined;
        continue;
      }
      let received = false;
      try {
        received = await this.fetch(wanted);
        this.errorDelayMs = 0;
      } catch (error) {
        this.host.reportError('fetch messages', error);
        this.errorDelayMs = Math.min(Math.max(this.errorDelayMs * 2, 50), 2_000);
        await sleep(this.errorDelayMs);
        continue;
      }
      if (received) {
        this.pollDelayMs = 1;
        continue;
      }
      if (this.dirty || !this.running) continue;
      const waitOn = wanted.filter((worker) => worker.wantedCount() > 0);
      if (waitOn.length === 0) continue;
      try {
        await (this.polling ? this.poll() : this.block(waitOn));
      } catch (error) {
        this.blockedOn = undefined;
        if (this.running) {
          this.host.reportError('wait for messages', error);
          await sleep(Math.min(this.host.maxWaitTimeMs, 1_000));
        }
      }
    }
  }

  /** One fenced read for all `wanted` partitions; resolves whether any message arrived. */
  private async fetch(wanted: PartitionWorker[]): Promise<boolean> {
    const counts = wanted.map((worker) => worker.wantedCount());
    wanted.forEach((worker) => worker.fetchStarted());
    let replies: FetchReply[];
    try {
      if (this.ctx.client instanceof Cluster) {
        replies = await Promise.all(
          wanted.map((worker, i) =>
            runScriptBuffer<FetchReply[]>(this.ctx.client, 'fetch', worker.fetchKeys, [this.host.group, this.host.memberId, counts[i]]).then(([reply]) => reply),
          ),
        );
      } else {
        replies = await runScriptBuffer<FetchReply[]>(this.ctx.client, 'fetch', wanted.flatMap((worker) => worker.fetchKeys), [this.host.group, this.host.memberId, ...counts]);
      }
    } finally {
      wanted.forEach((worker) => worker.fetchEnded());
    }
    let received = false;
    wanted.forEach((worker, i) => {
      const [status, raw] = replies[i];
      if (status === 0) worker.lose('fenced');
      else if (status === -1) worker.lose('gone');
      else if (raw && raw.length > 0) {
        received = true;
        worker.deliver(toEntries(raw));
      }
    });
    return received;
  }

  private async block(waitOn: PartitionWorker[]): Promise<void> {
    const keys = [...waitOn.map((worker) => worker.logKey), this.wakeKey];
    const ids = [...waitOn.map((worker) => worker.lastReadId), this.wakeId];
    this.blockedOn = new Set(waitOn);
    try {
      const reply = (await this.blocking!.xread('COUNT', 1, 'BLOCK', this.host.maxWaitTimeMs, 'STREAMS', ...keys, ...ids)) as Array<[string, Array<[string, string[]]>]> | null;
      for (const [key, entries] of reply ?? []) {
        if (key === this.wakeKey && entries.length > 0) this.wakeId = entries[entries.length - 1][0];
      }
    } finally {
      this.blockedOn = undefined;
    }
  }

  private async poll(): Promise<void> {
    this.pollAbort = new AbortController();
    await sleep(this.pollDelayMs, this.pollAbort.signal);
    this.pollAbort = undefined;
    this.pollDelayMs = Math.min(this.pollDelayMs * 2, this.host.pollIntervalMs);
  }
}
