import type { BrookContext } from '../client/context.js';
import { sleep } from '../client/sleep.js';
import { unpackEntries } from '../redis/packed-entries.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { FetchRequester, FetchTarget } from './fetch-target.js';

/** Settings of a {@link PollingFetcher}. */
export interface PollingFetcherSettings {
  group: string;
  /** The longest pause between polls of an idle partition. */
  pollIntervalMs: number;
  reportError(operation: string, error: unknown): void;
}

interface Poller {
  wake: (() => void) | undefined;
  abort: AbortController | undefined;
}

/**
 * Reads each partition on its own, for Redis Cluster, where one read cannot span slots: every
 * partition polls its shard independently, so a frozen or slow shard stalls only its own
 * partitions. An idle partition's poll delay grows to `pollIntervalMs`; a partition that asks for
 * more (it made room) is read at once.
 */
export class PollingFetcher implements FetchRequester {
  private readonly pollers = new Map<FetchTarget, Poller>();
  private running = false;

  constructor(
    private readonly ctx: BrookContext,
    private readonly settings: PollingFetcherSettings,
  ) {}

  start(): void {
    this.running = true;
  }

  add(target: FetchTarget): void {
    if (this.pollers.has(target)) return;
    this.pollers.set(target, { wake: undefined, abort: undefined });
    void this.poll(target);
  }

  remove(target: FetchTarget): void {
    const poller = this.pollers.get(target);
    this.pollers.delete(target);
    poller?.wake?.();
    poller?.abort?.abort();
  }

  request(target: FetchTarget): void {
    const poller = this.pollers.get(target);
    poller?.wake?.();
    poller?.abort?.abort();
  }

  /**
   * Stops polling. Reads already sent are not waited for: one stuck on a frozen shard would hold the
   * shutdown up, and what it reads stays pending for whoever takes the partition next.
   */
  stop(): Promise<void> {
    this.running = false;
    for (const target of [...this.pollers.keys()]) this.remove(target);
    return Promise.resolve();
  }

  private async poll(target: FetchTarget): Promise<void> {
    let delayMs = 1;
    while (this.running && this.pollers.has(target)) {
      const poller = this.pollers.get(target)!;
      const want = target.wanted();
      if (want === undefined) {
        await new Promise<void>((resolve) => (poller.wake = resolve));
        poller.wake = undefined;
        continue;
      }
      target.fetchStarted();
      let got = 0;
      try {
        const [reply] = await this.ctx.call(SCRIPTS.fetch, {
          group: this.settings.group,
          maxBytes: want.maxBytes,
          partitions: [{ topic: target.topic, partition: target.partition, token: target.token, count: want.count, after: target.position, maxBytes: want.maxBytes, averageBytes: want.averageBytes, recheck: want.recheck }],
        });
        if (reply.status !== 'ok') {
          target.fetched(reply);
        } else {
          const entries = reply.packed.length > 0 ? unpackEntries(reply.packed) : [];
          got = entries.length;
          target.fetched({ status: 'ok', entries });
        }
      } catch (error) {
        target.fetched(undefined);
        this.settings.reportError(`fetch from partition ${target.partition} of '${target.topic}'`, error);
        delayMs = Math.min(Math.max(delayMs * 2, 50), 2_000);
      }
      if (got > 0) {
        delayMs = 1;
        continue;
      }
      poller.abort = new AbortController();
      await sleep(delayMs, poller.abort.signal);
      poller.abort = undefined;
      delayMs = Math.min(delayMs * 2, this.settings.pollIntervalMs);
    }
  }
}
