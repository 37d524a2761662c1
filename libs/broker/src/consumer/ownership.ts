import type { BrookContext } from '../client/context.js';
import { SCRIPTS } from '../redis/script-table.js';
import { PartitionLease } from './lease.js';
import { leaseToken } from './lease-token.js';
import { PartitionStore } from './partition-store.js';
import type { RollbackDetector } from './rollback-detector.js';
import type { LossReason, PartitionWorker } from './partition-worker.js';
import { parsePartitionKey, partitionKey, type TopicPartition } from './topic-partition.js';

/** What ownership needs from its consumer. */
export interface OwnershipSettings {
  group: string;
  memberId: string;
  /** The lease time (the session timeout). */
  leaseMs: number;
  heartbeatIntervalMs: number;
  /** Where a group new to the partition starts reading. */
  startIdFor(tp: TopicPartition): '0' | '$';
  /** A worker for a partition just acquired; it is started by ownership. */
  createWorker(store: PartitionStore, lease: PartitionLease, lastDeliveredSeq: number): PartitionWorker;
  /** Checks, whenever a partition is taken, that Redis kept what this member read of it. */
  rollbacks: RollbackDetector;
  /** Seeks asked for before the partition was owned: applied when it is acquired. */
  pendingSeeks: Map<string, number>;
  /** The fetcher the workers read through. */
  fetcher: { add(worker: PartitionWorker): void; remove(worker: PartitionWorker): void };
  onAssigned(tp: TopicPartition): void;
  onRevoked(tp: TopicPartition): void;
  onLost(tp: TopicPartition, reason: LossReason): void;
  /** A partition's log is gone: the topic was deleted (and maybe created again with fewer partitions). */
  topicGone(topic: string): void;
  reportError(operation: string, error: unknown): void;
}

interface Slot {
  tp: TopicPartition;
  key: string;
  phase: 'acquiring' | 'owned' | 'releasing';
  worker: PartitionWorker | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The previous worker of the partition has stopped: only then may this member take it again. */
  settled: Promise<void>;
}

/**
 * Which partitions this member owns, and the life of each: acquire the lease with a new fencing
 * token, run a worker, revoke it gracefully (drain, then release), or lose it (fenced, expired, in
 * doubt) and take it back — only after the old worker has stopped, so one member never runs a
 * partition twice at once.
 */
export class Ownership {
  private readonly slots = new Map<string, Slot>();
  private assigned = new Set<string>();
  private acquisitions = 0;
  /** Revocations in progress: drain, then release. */
  private readonly releasing = new Set<Promise<void>>();
  private running = true;

  constructor(
    private readonly ctx: BrookContext,
    private readonly settings: OwnershipSettings,
  ) {}

  /** The partitions assigned to this member now: acquire the new ones, revoke the others. */
  assign(keys: Iterable<string>): void {
    this.assigned = new Set(keys);
    for (const slot of this.slots.values()) if (slot.phase === 'owned' && !this.assigned.has(slot.key)) this.revoke(slot);
    for (const key of this.assigned) if (!this.slots.has(key)) this.acquire(key);
  }

  /** Workers of owned partitions. */
  workers(): PartitionWorker[] {
    return [...this.slots.values()].filter((slot) => slot.phase === 'owned' && slot.worker !== undefined).map((slot) => slot.worker!);
  }

  /** Workers whose leases must be renewed: owned, and draining before release. */
  held(): PartitionWorker[] {
    return [...this.slots.values()].map((slot) => slot.worker).filter((worker): worker is PartitionWorker => worker !== undefined && !worker.lost);
  }

  worker(key: string): PartitionWorker | undefined {
    const slot = this.slots.get(key);
    return slot?.phase === 'owned' ? slot.worker : undefined;
  }

  /** Moves the group's position on a partition now when owned, else as soon as it is acquired. */
  async seek(tp: TopicPartition, offset: number): Promise<void> {
    const worker = this.worker(partitionKey(tp.topic, tp.partition));
    if (worker === undefined) this.settings.pendingSeeks.set(partitionKey(tp.topic, tp.partition), offset);
    else await worker.seek(offset);
  }

  /** Marks what the partitions matching `match` were doing as in doubt: their workers stop, and the partitions are taken again. */
  resync(match: (tp: TopicPartition) => boolean): void {
    for (const slot of this.slots.values()) if (slot.worker !== undefined && match(slot.tp)) slot.worker.lose('in-doubt');
  }

  /** A worker lost its partition: report it, and take the partition back once the worker stopped. */
  workerLost(worker: PartitionWorker, reason: LossReason): void {
    const slot = [...this.slots.values()].find((candidate) => candidate.worker === worker);
    if (slot === undefined) return;
    this.settings.fetcher.remove(worker);
    this.settings.onLost(slot.tp, reason);
    this.settings.onRevoked(slot.tp);
    if (reason === 'gone') this.settings.topicGone(slot.tp.topic);
    if (slot.phase === 'releasing') return; // revoke() finishes the job
    slot.worker = undefined;
    slot.phase = 'acquiring';
    // After an error, pause before trying again; otherwise the partition is retaken at once.
    const pause = reason === 'error' ? this.settings.heartbeatIntervalMs : 0;
    slot.settled = worker.settled().then(() => new Promise((resolve) => setTimeout(resolve, pause)));
    this.track(this.tryAcquire(slot));
  }

  /**
   * Stops: drains and releases every partition. Acquisitions still in flight are not waited for
   * (one that succeeds later releases its lease at once), and nothing waits past a lease's end.
   */
  async releaseAll(): Promise<void> {
    this.running = false;
    for (const slot of this.slots.values()) {
      clearTimeout(slot.timer);
      if (slot.phase === 'owned') this.revoke(slot);
    }
    while (this.releasing.size > 0) await Promise.all([...this.releasing]);
  }

  private track(work: Promise<void>): void {
    void work.catch((error: unknown) => this.settings.reportError('acquire a partition', error));
  }

  private acquire(key: string): void {
    if (!this.running) return;
    const slot: Slot = { tp: parsePartitionKey(key), key, phase: 'acquiring', worker: undefined, timer: undefined, settled: Promise.resolve() };
    this.slots.set(key, slot);
    this.track(this.tryAcquire(slot));
  }

  private retryLater(slot: Slot, delayMs: number): void {
    slot.timer = setTimeout(() => this.track(this.tryAcquire(slot)), delayMs);
  }

  private async tryAcquire(slot: Slot): Promise<void> {
    await slot.settled;
    const { group, memberId, leaseMs, heartbeatIntervalMs } = this.settings;
    if (!this.running || !this.assigned.has(slot.key)) {
      this.slots.delete(slot.key);
      return;
    }
    const { topic, partition } = slot.tp;
    const token = leaseToken(memberId, ++this.acquisitions);
    const sentAt = performance.now();
    let reply;
    try {
      reply = await this.ctx.call(
        SCRIPTS.acquireLease,
        { topic, partition, group, token, memberId, leaseMs, startId: this.settings.startIdFor(slot.tp) },
        { timeoutMs: Math.min(this.ctx.options.connection.commandTimeoutMs, Math.ceil(leaseMs / 2)) },
      );
    } catch (error) {
      this.settings.reportError(`acquire partition ${partition} of '${topic}'`, error);
      // The lease may have been taken with this token: releasing it lets the next try go at once.
      void this.ctx.call(SCRIPTS.releaseLease, { topic, partition, group, token }).catch(() => undefined);
      return this.retryLater(slot, heartbeatIntervalMs);
    }
    if (reply.status === 'held') return this.retryLater(slot, Math.min(Math.max(reply.msUntilExpiry + 2, 10), 100));
    if (reply.status === 'gone') {
      this.settings.topicGone(topic);
      return this.retryLater(slot, heartbeatIntervalMs * 5);
    }
    if (!this.running || !this.assigned.has(slot.key)) {
      await this.ctx.call(SCRIPTS.releaseLease, { topic, partition, group, token }).catch((error: unknown) => this.settings.reportError('release a partition', error));
      this.slots.delete(slot.key);
      return;
    }
    void this.settings.rollbacks.check(slot.tp);
    const store = new PartitionStore(this.ctx, topic, partition, group, token);
    let lastDeliveredSeq = reply.lastDeliveredSeq;
    const seek = this.settings.pendingSeeks.get(slot.key);
    if (seek !== undefined) {
      this.settings.pendingSeeks.delete(slot.key);
      const moved = await store.seek(seek).catch((error: unknown) => this.settings.reportError(`seek partition ${partition} of '${topic}'`, error));
      if (moved?.status === 'ok') lastDeliveredSeq = seek;
    }
    const lease = new PartitionLease(token, leaseMs, sentAt, () => slot.worker?.lose('expired'));
    const worker = this.settings.createWorker(store, lease, lastDeliveredSeq);
    slot.worker = worker;
    slot.phase = 'owned';
    this.settings.fetcher.add(worker);
    worker.start();
    this.settings.onAssigned(slot.tp);
  }

  /** Hands a partition back: drain, then release the lease; takes it again if it was assigned back meanwhile. */
  private revoke(slot: Slot): void {
    const worker = slot.worker!;
    slot.phase = 'releasing';
    const { group } = this.settings;
    const done = (async () => {
      await worker.drain();
      this.settings.fetcher.remove(worker);
      if (!worker.lost) {
        // Waiting for the release past the lease's end is pointless: it would have expired anyway.
        const timeoutMs = Math.max(50, Math.min(worker.lease.remainingMs, this.ctx.options.connection.commandTimeoutMs));
        worker.lease.end();
        await this.ctx
          .call(SCRIPTS.releaseLease, { ...slot.tp, group, token: worker.token }, { timeoutMs })
          .catch((error: unknown) => this.settings.reportError(`release partition ${slot.tp.partition} of '${slot.tp.topic}'`, error));
        this.settings.onRevoked(slot.tp);
      }
    })().finally(() => {
      this.releasing.delete(done);
      this.slots.delete(slot.key);
      if (this.running && this.assigned.has(slot.key)) this.acquire(slot.key);
    });
    this.releasing.add(done);
  }
}
