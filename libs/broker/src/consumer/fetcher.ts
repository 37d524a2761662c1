import { Cluster } from 'ioredis';
import type { BrookContext } from '../client/context.js';
import { runScriptBuffer, type RedisClient } from '../redis/scripts.js';
import { sleep } from './backoff.js';
import { unpackEntries } from './entry.js';
import type { PartitionWorker } from './partition-worker.js';

type FetchReply = [status: number, packed?: Buffer];

/** What a read brought: `full` when some partition got all it asked for, so more is likely waiting. */
type ReadOutcome = 'full' | 'some' | 'none';

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
 * on a single Redis (one script per partition on Cluster).
 *
 * On a single Redis the read waits for messages: one blocking `XREAD` over all those partitions plus
 * a private wake-up stream (a worker that needs data while the read is blocked appends to that
 * stream, which also covers the moment before the read reached the server), with the fenced fetch
 * sent right behind it on the same connection. Redis holds the fetch until the `XREAD` returns and
 * then runs it at once, so a message that ends the wait arrives in the same round trip. Only after a
 * partition got a full batch does the next read skip the wait. On Cluster, where one read cannot
 * span slots, it polls with a delay that grows to `pollIntervalMs` while idle.
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
    // The fetch queued behind a blocked read still names the worker's partition: let it run now,
    // while the lease is still this member's or already released, rather than once the partition
    // may have come back to this member with a new worker that would never see what it read.
    if (this.blockedOn?.has(worker)) this.wake();
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
    let outcome: ReadOutcome = 'none';
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
      if (!this.polling && outcome !== 'full') {
        try {
          outcome = await this.blockAndFetch(wanted);
        } catch (error) {
          this.blockedOn = undefined;
          outcome = 'none';
          if (this.running) {
            this.host.reportError('wait for messages', error);
            await sleep(Math.min(this.host.maxWaitTimeMs, 1_000));
          }
        }
        continue;
      }
      try {
        outcome = await this.fetch(wanted);
        this.errorDelayMs = 0;
      } catch (error) {
        this.host.reportError('fetch messages', error);
        this.errorDelayMs = Math.min(Math.max(this.errorDelayMs * 2, 50), 2_000);
        outcome = 'none';
        await sleep(this.errorDelayMs);
        continue;
      }
      if (!this.polling) continue;
      if (outcome !== 'none') {
        this.pollDelayMs = 1;
        continue;
      }
      if (this.dirty || !this.running) continue;
      if (!wanted.some((worker) => worker.wantedCount() > 0)) continue;
      await this.poll();
    }
  }

  /** One fenced read for all `wanted` partitions. */
  private async fetch(wanted: PartitionWorker[]): Promise<ReadOutcome> {
    const counts = wanted.map((worker) => worker.wantedCount());
    wanted.forEach((worker) => worker.fetchStarted());
    let replies: FetchReply[];
    try {
      if (this.ctx.client instanceof Cluster) {
        replies = await Promise.all(
          wanted.map((worker, i) =>
            runScriptBuffer<FetchReply[]>(this.ctx.client, 'fetch', worker.fetchKeys, fetchArgs(this.host, [worker], [counts[i]])).then(([reply]) => reply),
          ),
        );
      } else {
        // The fetcher's own connection is idle whenever it is not blocked: the read does not queue
        // behind acknowledgements on the command connection.
        const connection = this.blocking ?? this.ctx.client;
        replies = await runScriptBuffer<FetchReply[]>(connection, 'fetch', wanted.flatMap((worker) => worker.fetchKeys), fetchArgs(this.host, wanted, counts));
      }
    } finally {
      wanted.forEach((worker) => worker.fetchEnded());
    }
    return this.deliver(wanted, counts, replies);
  }

  /** Waits until one of the `waitOn` partitions has news, then reads them in the same round trip. */
  private async blockAndFetch(waitOn: PartitionWorker[]): Promise<ReadOutcome> {
    const blocking = this.blocking!;
    const keys = [...waitOn.map((worker) => worker.logKey), this.wakeKey];
    const ids = [...waitOn.map((worker) => worker.lastReadId), this.wakeId];
    const counts = waitOn.map((worker) => worker.wantedCount());
    this.blockedOn = new Set(waitOn);
    waitOn.forEach((worker) => worker.fetchStarted());
    let replies: FetchReply[];
    try {
      const woken = blocking.xread('COUNT', 1, 'BLOCK', this.host.maxWaitTimeMs, 'STREAMS', ...keys, ...ids).then((reply) => {
        this.blockedOn = undefined;
        for (const [key, entries] of (reply ?? []) as Array<[string, Array<[string, string[]]>]>) {
          if (key === this.wakeKey && entries.length > 0) this.wakeId = entries[entries.length - 1][0];
        }
      });
      // Queued behind the blocking read on the same connection, so Redis runs it the moment the read returns.
      const fetched = runScriptBuffer<FetchReply[]>(blocking, 'fetch', waitOn.flatMap((worker) => worker.fetchKeys), fetchArgs(this.host, waitOn, counts));
      [, replies] = await Promise.all([woken, fetched]);
    } finally {
      this.blockedOn = undefined;
      waitOn.forEach((worker) => worker.fetchEnded());
    }
    return this.deliver(waitOn, counts, replies);
  }

  /** Hands each worker what the fetch script read for it. */
  private deliver(workers: PartitionWorker[], counts: number[], replies: FetchReply[]): ReadOutcome {
    let outcome: ReadOutcome = 'none';
    workers.forEach((worker, i) => {
      const [status, packed] = replies[i];
      if (status === 0) worker.lose('fenced');
      else if (status === -1) worker.lose('gone');
      else if (packed && packed.length > 0) {
        const entries = unpackEntries(packed);
        if (outcome !== 'full') outcome = entries.length >= counts[i] ? 'full' : 'some';
        worker.deliver(entries);
      }
    });
    return outcome;
  }

  private async poll(): Promise<void> {
    this.pollAbort = new AbortController();
    await sleep(this.pollDelayMs, this.pollAbort.signal);
    this.pollAbort = undefined;
    this.pollDelayMs = Math.min(this.pollDelayMs * 2, this.host.pollIntervalMs);
  }
}

/** The fetch script's arguments: each partition's count and read position (see the script's header). */
function fetchArgs(host: FetcherHost, workers: PartitionWorker[], counts: number[]): Array<string | number> {
  const args: Array<string | number> = [host.group, host.memberId];
  workers.forEach((worker, i) => args.push(counts[i], worker.lastReadId));
  return args;
}
