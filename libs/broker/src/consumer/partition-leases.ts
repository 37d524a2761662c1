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

/** Extends every lease in `partitions`; resolves with one boolean per partition (false: lost). */
export async function renewLeases(ctx: BrookContext, group: string, memberId: string, leaseMs: number, partitions: TopicPartition[]): Promise<boolean[]> {
  if (partitions.length === 0) return [];
  const keys = partitions.map(({ topic, partition }) => ctx.keys.lease(topic, partition, group));
  if (ctx.client instanceof Cluster) {
    // Leases live in their partitions' slots: one call each, auto-pipelined per node.
    const replies = await Promise.all(keys.map((key) => runScript<number[]>(ctx.client, 'renew-leases', [key], [memberId, leaseMs])));
    return replies.map(([renewed]) => renewed === 1);
  }
  const replies = await runScript<number[]>(ctx.client, 'renew-leases', keys, [memberId, leaseMs]);
  return replies.map((renewed) => renewed === 1);
}

/** Gives a lease up so the next owner can take the partition at once. */
export async function releaseLease(ctx: BrookContext, group: string, memberId: string, { topic, partition }: TopicPartition): Promise<void> {
  await runScript(ctx.client, 'release-lease', [ctx.keys.lease(topic, partition, group)], [memberId]);
}
