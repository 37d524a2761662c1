import { Cluster } from 'ioredis';
import type { BrookContext } from '../client/context.js';
import { runScript } from '../redis/scripts.js';
import type { TopicPartition } from './topic-partition.js';

/** Outcome of trying to take a partition's lease. */
export type AcquireResult =
  | { status: 'acquired'; lastDeliveredSeq: number }
  | { status: 'held'; msUntilExpiry: number }
  | { status: 'gone' };

/** Takes the group's lease on a partition and makes sure the group has a position on its log. */
export async function acquireLease(
  ctx: BrookContext,
  group: string,
  memberId: string,
  leaseMs: number,
  { topic, partition }: TopicPartition,
  startId: '0' | '$',
): Promise<AcquireResult> {
  const [status, value] = await runScript<[number, number?]>(
    ctx.client,
    'acquire-lease',
    [ctx.keys.lease(topic, partition, group), ctx.keys.log(topic, partition)],
    [memberId, leaseMs, group, startId],
  );
  if (status === 1) return { status: 'acquired', lastDeliveredSeq: value ?? 0 };
  if (status === 0) return { status: 'held', msUntilExpiry: value ?? 0 };
  return { status: 'gone' };
}

/** Outcome of renewing one partition's lease. */
export interface Renewal {
  /** False when the lease was lost: expired, or held by another member. */
  renewed: boolean;
  /** When the earliest retry in the group's delay queue on the partition is due (ms since epoch), or Infinity. */
  nextDueMs: number;
}

/** Extends every lease in `partitions` and reads when their next retries are due. */
export async function renewLeases(ctx: BrookContext, group: string, memberId: string, leaseMs: number, partitions: TopicPartition[]): Promise<Renewal[]> {
  if (partitions.length === 0) return [];
  const keys = partitions.map(({ topic, partition }) => [ctx.keys.lease(topic, partition, group), ctx.keys.delayQueue(topic, partition, group)]);
  let flat: number[];
  if (ctx.client instanceof Cluster) {
    // Each partition lives in its own slot: one call per partition.
    flat = (await Promise.all(keys.map((pair) => runScript<number[]>(ctx.client, 'renew-leases', pair, [memberId, leaseMs])))).flat();
  } else {
    flat = await runScript<number[]>(ctx.client, 'renew-leases', keys.flat(), [memberId, leaseMs]);
  }
  return partitions.map((_, i) => ({ renewed: flat[2 * i] === 1, nextDueMs: flat[2 * i + 1] === -1 ? Infinity : flat[2 * i + 1] }));
}

/** Gives a lease up so the next owner can take the partition at once. */
export async function releaseLease(ctx: BrookContext, group: string, memberId: string, { topic, partition }: TopicPartition): Promise<void> {
  await runScript(ctx.client, 'release-lease', [ctx.keys.lease(topic, partition, group)], [memberId]);
}
