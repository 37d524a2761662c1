import type { BrookContext } from '../client/context.js';
import { backoffMs } from '../client/io-retry.js';
import { sleep } from '../client/sleep.js';
import { unpackEntries } from '../redis/packed-entries.js';
import { withTimeout } from '../redis/request-timeout.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { FetchReply } from '../redis/specs/transitions.js';
import type { RedisClient } from '../redis/scripts.js';
import type { FetchRequester, FetchTarget, FetchWant } from './fetch-target.js';

/** What a read brought: `full` when some partition got all it asked for, so more is likely waiting. */
type ReadOutcome = 'full' | 'some' | 'none';

/** Settings of a {@link BlockingFetcher}. */
export interface BlockingFetcherSettings {
  group: string;
  memberId: string;
  /** Longest a blocking read waits. */
  maxWaitTimeMs: number;
  /** Budget of one read over all partitions. */
  maxBytes: number;
  reportError(operation: string, error: unknown): void;
}

/**
 * Reads new messages for every partition that has room, in one fenced script for all of them, on a
 * single Redis server (standalone or Sentinel).
 *
 * The read waits for messages: one blocking `XREAD` over all those partitions plus a private
 * wake-up stream (a partition that needs data while the read is blocked appends to that stream,
 * which also covers the moment before the read reached the server), with the fenced fetch sent
 * right behind it on the same connection. Redis holds the fetch until the `XREAD` returns and then
 * runs it at once, so a message that ends the wait arrives in the same round trip. Only after a
 * partition got a full batch does the next read skip the wait.
 */
export class BlockingFetcher implements FetchRequester {
  private readonly targets = new Set<FetchTarget>();
  private running = false;
  private loop: Promise<void> | undefined;
  private idle: (() => void) | undefined;
  private dirty = false;
  private blockedOn: Set<FetchTarget> | undefined;
  private wakeId = '0-0';
  private readonly wakeKey: string;
  private rotation = 0;

  constructor(
    private readonly ctx: BrookContext,
    private readonly connection: RedisClient,
    private readonly settings: BlockingFetcherSettings,
  ) {
    this.wakeKey = ctx.keys.memberWake(settings.memberId);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  add(target: FetchTarget): void {
    this.targets.add(target);
    this.request(target);
  }

  remove(target: FetchTarget): void {
    this.targets.delete(target);
    // The fetch queued behind a blocked read still names the partition: let it run now, while the
    // lease is still this token's or already gone, so what it reads lands with a token the next
    // owner claims from.
    if (this.blockedOn?.has(target)) this.wake();
  }

  request(target: FetchTarget, moved = false): void {
    this.dirty = true;
    if (this.idle) {
      this.idle();
      return;
    }
    if (this.blockedOn && (moved || !this.blockedOn.has(target))) this.wake();
  }

  /**
   * Stops reading. A read already sent is waited for only up to `maxWaitTimeMs` (a stalled Redis
   * must not hold the shutdown up); what it reads stays pending for whoever takes the partition next.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.idle?.();
    if (this.blockedOn) this.wake();
    await Promise.race([this.loop, sleep(this.settings.maxWaitTimeMs)]);
    void this.ctx.client.del(this.wakeKey).catch(() => undefined);
  }

  private wake(): void {
    this.blockedOn = undefined;
    // The key expires if this process dies; a blocked XREAD on it is then simply idle.
    void Promise.all([this.ctx.client.xadd(this.wakeKey, 'MAXLEN', '1', '*', 'w', '1'), this.ctx.client.pexpire(this.wakeKey, 60_000)]).catch(
      (error: unknown) => this.settings.reportError('wake the fetcher', error),
    );
  }

  private async run(): Promise<void> {
    let outcome: ReadOutcome = 'none';
    let failures = 0;
    while (this.running) {
      this.dirty = false;
      const wanted = this.wanted();
      if (wanted.length === 0) {
        await new Promise<void>((resolve) => {
          this.idle = resolve;
          if (this.dirty || !this.running) resolve();
        });
        this.idle = undefined;
        continue;
      }
      try {
        outcome = outcome === 'full' ? await this.fetch(wanted) : await this.blockAndFetch(wanted);
        failures = 0;
      } catch (error) {
        outcome = 'none';
        if (this.running) {
          this.settings.reportError('fetch messages', error);
          await sleep(backoffMs({ initialBackoffMs: 20, maxBackoffMs: 1_000 }, ++failures));
        }
      }
    }
  }

  /** The partitions that want messages now, starting at a rotating one so the byte budget is shared fairly. */
  private wanted(): Array<[FetchTarget, FetchWant]> {
    const all = [...this.targets];
    const start = all.length === 0 ? 0 : this.rotation++ % all.length;
    const wanted: Array<[FetchTarget, FetchWant]> = [];
    for (let i = 0; i < all.length; i++) {
      const target = all[(start + i) % all.length];
      const want = target.wanted();
      if (want !== undefined) wanted.push([target, want]);
    }
    return wanted;
  }

  private fetch(wanted: Array<[FetchTarget, FetchWant]>): Promise<ReadOutcome> {
    wanted.forEach(([target]) => target.fetchStarted());
    const request = this.ctx.call(SCRIPTS.fetch, this.fetchInput(wanted), { client: this.connection });
    return this.deliver(wanted, request);
  }

  /** Waits until one of the partitions has news, then reads them in the same round trip. */
  private async blockAndFetch(wanted: Array<[FetchTarget, FetchWant]>): Promise<ReadOutcome> {
    const { maxWaitTimeMs } = this.settings;
    const keys = [...wanted.map(([target]) => this.ctx.keys.log(target.topic, target.partition)), this.wakeKey];
    const ids = [...wanted.map(([target]) => target.position), this.wakeId];
    this.blockedOn = new Set(wanted.map(([target]) => target));
    wanted.forEach(([target]) => target.fetchStarted());
    const timeoutMs = maxWaitTimeMs + this.ctx.options.connection.commandTimeoutMs;
    const woken = withTimeout(this.connection.xread('COUNT', 1, 'BLOCK', maxWaitTimeMs, 'STREAMS', ...keys, ...ids), timeoutMs, 'wait for messages').then((reply) => {
      this.blockedOn = undefined;
      for (const [key, entries] of (reply ?? []) as Array<[string, Array<[string, string[]]>]>) {
        if (key === this.wakeKey && entries.length > 0) this.wakeId = entries[entries.length - 1][0];
      }
    });
    // Queued behind the blocking read on the same connection, so Redis runs it the moment the read returns.
    const fetched = this.ctx.call(SCRIPTS.fetch, this.fetchInput(wanted), { client: this.connection, timeoutMs });
    try {
      await woken;
    } catch (error) {
      this.blockedOn = undefined;
      void this.deliver(wanted, fetched).catch(() => undefined);
      throw error;
    }
    return this.deliver(wanted, fetched);
  }

  private fetchInput(wanted: Array<[FetchTarget, FetchWant]>) {
    return {
      group: this.settings.group,
      maxBytes: this.settings.maxBytes,
      partitions: wanted.map(([target, want]) => ({
        topic: target.topic,
        partition: target.partition,
        token: target.token,
        count: want.count,
        after: target.position,
        maxBytes: want.maxBytes,
        averageBytes: want.averageBytes,
        recheck: want.recheck,
      })),
    };
  }

  /** Hands each partition what the fetch read for it. */
  private async deliver(wanted: Array<[FetchTarget, FetchWant]>, request: Promise<FetchReply[]>): Promise<ReadOutcome> {
    let replies: FetchReply[];
    try {
      replies = await request;
    } catch (error) {
      for (const [target] of wanted) target.fetched(undefined);
      throw error;
    }
    let outcome: ReadOutcome = 'none';
    wanted.forEach(([target, want], i) => {
      const reply = replies[i];
      if (reply.status !== 'ok') return target.fetched(reply);
      const entries = reply.packed.length > 0 ? unpackEntries(reply.packed) : [];
      if (entries.length > 0 && outcome !== 'full') outcome = entries.length >= want.count || reply.packed.length >= want.maxBytes ? 'full' : 'some';
      target.fetched({ status: 'ok', entries });
    });
    return outcome;
  }
}
