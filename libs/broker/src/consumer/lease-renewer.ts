import { Cluster } from 'ioredis';
import type { BrookContext } from '../client/context.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { PartitionLease } from './lease.js';

/** A lease the renewer keeps alive, and where it reports each renewal. */
export interface RenewableLease {
  readonly topic: string;
  readonly partition: number;
  readonly lease: PartitionLease;
  /** A renewal sent at `sentAt` came back: still held or not, and when the next retry is due. */
  renewal(renewed: boolean, sentAt: number, msUntilNextDue: number): void;
}

/**
 * Renews a member's partition leases every interval, on its own schedule, apart from the group
 * heartbeat: a stalled group key does not starve the leases. On a single server one call renews
 * them all; on Cluster each partition is renewed by its own call and applied as it arrives, so a
 * frozen shard delays only its own partitions. A renewal still in flight is not sent again.
 */
export class LeaseRenewer {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<RenewableLease>();
  private round: Promise<void> | undefined;
  private running = false;

  constructor(
    private readonly ctx: BrookContext,
    private readonly group: string,
    private readonly leaseMs: number,
    private readonly intervalMs: number,
    private readonly held: () => RenewableLease[],
    private readonly reportError: (operation: string, error: unknown) => void,
  ) {}

  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  /** Renews now (a handler's `heartbeat()`); resolves when the renewals sent now came back. */
  renewNow(): Promise<void> {
    return this.renew();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.renew().finally(() => this.schedule());
    }, this.intervalMs);
  }

  private renew(): Promise<void> {
    const leases = this.held().filter((lease) => !this.inFlight.has(lease));
    if (leases.length === 0) return this.round ?? Promise.resolve();
    const timeoutMs = Math.min(this.ctx.options.connection.commandTimeoutMs, Math.ceil(this.leaseMs / 2));
    const batches = this.ctx.client instanceof Cluster ? leases.map((lease) => [lease]) : [leases];
    const round = Promise.all(batches.map((batch) => this.renewBatch(batch, timeoutMs))).then(() => undefined);
    this.round = round;
    void round.finally(() => {
      if (this.round === round) this.round = undefined;
    });
    return round;
  }

  private async renewBatch(batch: RenewableLease[], timeoutMs: number): Promise<void> {
    for (const lease of batch) this.inFlight.add(lease);
    const sentAt = performance.now();
    try {
      const results = await this.ctx.call(
        SCRIPTS.renewLeases,
        { group: this.group, leaseMs: this.leaseMs, partitions: batch.map(({ topic, partition, lease }) => ({ topic, partition, token: lease.token })) },
        { timeoutMs },
      );
      batch.forEach((lease, i) => lease.renewal(results[i].renewed, sentAt, results[i].msUntilNextDue));
    } catch (error) {
      // The leases run out on their own clock if no renewal gets through.
      this.reportError(`renew the leases of group '${this.group}'`, error);
    } finally {
      for (const lease of batch) this.inFlight.delete(lease);
    }
  }
}
