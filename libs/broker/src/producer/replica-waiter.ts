import { Cluster, type Redis } from 'ioredis';
import { LeaderNotAvailableError, NotEnoughReplicasError, type BrokerError } from '../errors/errors.js';
import { withTimeout } from '../redis/request-timeout.js';
import type { RedisClient } from '../redis/scripts.js';

interface Waiting {
  resolve: () => void;
  reject: (error: BrokerError) => void;
}

/**
 * Confirms `acks: 'all'` writes with `WAIT` on the primary that holds them. Callers whose writes
 * were answered in the same turn of the event loop share one `WAIT` per primary, which covers every
 * write this producer sent to it before. On Cluster the produce script names the primary that ran
 * it (its replication id), so the `WAIT` goes there even when a resharding redirected the write,
 * and a shard whose replica is down delays only the writes it holds.
 */
export class ReplicaWaiter {
  private waiting = new Map<string, Waiting[]>();
  private scheduled = false;
  /** Replication id → the Cluster node connection of that primary. */
  private nodesById = new Map<string, Redis>();

  constructor(
    private readonly connection: RedisClient,
    private readonly minInSyncReplicas: number,
    private readonly ackTimeoutMs: number,
    private readonly requestTimeoutMs: number,
    private readonly translate: (error: unknown, operation: string) => BrokerError,
  ) {}

  /** Resolves once enough replicas confirmed every write sent so far to the primary `replicationId`. */
  confirm(replicationId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(replicationId) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(replicationId, list);
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const waiting = this.waiting;
        this.waiting = new Map();
        for (const [id, callers] of waiting) void this.wait(id, callers);
      });
    });
  }

  private async wait(replicationId: string, callers: Waiting[]): Promise<void> {
    let failure: BrokerError | undefined;
    try {
      const node = this.connection instanceof Cluster ? await this.primary(replicationId) : this.connection;
      const confirmed = await withTimeout(node.wait(this.minInSyncReplicas, this.ackTimeoutMs), this.ackTimeoutMs + this.requestTimeoutMs, 'wait for replicas');
      if (confirmed < this.minInSyncReplicas) failure = new NotEnoughReplicasError(confirmed, this.minInSyncReplicas, this.ackTimeoutMs);
    } catch (error) {
      failure = this.translate(error, 'wait for replicas');
    }
    for (const { resolve, reject } of callers) {
      if (failure === undefined) resolve();
      else reject(failure);
    }
  }

  /** The Cluster primary with this replication id; the map is read again when the id is new (a failover). */
  private async primary(replicationId: string): Promise<Redis> {
    const cluster = this.connection as Cluster;
    let node = this.nodesById.get(replicationId);
    if (node !== undefined && cluster.nodes('master').includes(node)) return node;
    const ids = await withTimeout(
      Promise.all(cluster.nodes('master').map(async (master) => [/master_replid:(\w+)/.exec(await master.info('replication'))?.[1] ?? '', master] as const)),
      this.requestTimeoutMs,
      'read the replication ids of the primaries',
    );
    this.nodesById = new Map(ids);
    node = this.nodesById.get(replicationId);
    // The primary that took the write is no primary any more (a failover since): whether the write
    // lives on depends on the node that serves the slot now, which the producer asks by sending again.
    if (node === undefined) throw new LeaderNotAvailableError('wait for replicas', 'the primary that took the write is no longer a primary');
    return node;
  }
}
