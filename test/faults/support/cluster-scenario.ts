/**
 * What the Redis Cluster fault scenarios share: reading the partition logs back from whichever
 * node serves them now, the successful runs of a history, how long partitions went without a
 * successful run across a fault, and waiting until a group owns and works every partition.
 */
import { Cluster } from 'ioredis';
import type { Brook } from '@brook/broker';
import { waitFor } from '../../support/brook.js';
import type { ClusterSetup } from '../../support/cluster.js';
import { KeySpace } from '../../../libs/broker/src/redis/keys.js';
import type { HistoryEntry, LogRecord, RunRecord } from './history.js';
import { readPartitionLogs } from './workload.js';

/** `0, 1, …, n - 1`. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** What the partition logs hold after a Cluster scenario, read through the current slot map. */
export async function readClusterLogs(cluster: ClusterSetup, prefix: string, topic: string, partitions: number): Promise<LogRecord[]> {
  const client = new Cluster(cluster.seeds.cluster.filter((_, i) => cluster.servers[i].running), { redisOptions: { maxRetriesPerRequest: 3 } });
  client.on('error', () => undefined);
  const keys = new KeySpace(prefix);
  try {
    return await readPartitionLogs(client, (partition) => keys.log(topic, partition), partitions);
  } finally {
    client.disconnect();
  }
}

/** The runs of a history that succeeded. */
export function okRuns(history: readonly HistoryEntry[]): RunRecord[] {
  return history.filter((entry): entry is RunRecord => entry.kind === 'run' && entry.outcome === 'ok');
}

/** How long a partition went without a successful run across a fault. */
export interface PartitionStall {
  partition: number;
  /** The longest gap between successive successful run starts that ends after the fault (ms). */
  stalledMs: number;
  /** From the fault to the first successful run that started after it (ms). */
  resumedAfterMs: number;
}

/** The stall of each of `partitions` across the fault at `faultAt` (`Date.now()`). */
export function stallsAcross(runs: readonly RunRecord[], partitions: readonly number[], faultAt: number): PartitionStall[] {
  return partitions.map((partition) => {
    const starts = runs.filter((run) => run.partition === partition).map((run) => run.startedAt).sort((a, b) => a - b);
    let stalledMs = 0;
    for (let i = 1; i < starts.length; i++) if (starts[i] > faultAt) stalledMs = Math.max(stalledMs, starts[i] - Math.max(starts[i - 1], faultAt));
    const resumed = starts.find((start) => start > faultAt);
    return { partition, stalledMs, resumedAfterMs: resumed === undefined ? Number.POSITIVE_INFINITY : resumed - faultAt };
  });
}

/** The highest of some figures, 0 for none. */
export function highest(values: readonly number[]): number {
  return values.reduce((max, value) => Math.max(max, value), 0);
}

/** Waits until `members` members share every partition and each partition had `runsEach` successful runs. */
export async function waitUntilWarm(
  brook: Brook,
  { group, topic, partitions, members, runsEach, runs }: { group: string; topic: string; partitions: number; members: number; runsEach: number; runs: () => Promise<readonly HistoryEntry[]> },
): Promise<void> {
  await waitFor(
    async () => {
      const described = await brook.admin().describeGroup({ group, topic });
      if (described.members.length !== members || described.partitions.some((p) => p.owner === null)) return false;
      const ok = okRuns(await runs());
      return range(partitions).every((p) => ok.filter((run) => run.partition === p).length >= runsEach);
    },
    { message: `${members} members to share the ${partitions} partitions and handle messages on each`, timeoutMs: 45_000, intervalMs: 200 },
  );
}

/** Waits until the group has worked off every partition (no lag, nothing pending). */
export async function waitUntilWorkedOff(brook: Brook, group: string, topic: string, timeoutMs = 45_000): Promise<void> {
  await waitFor(
    async () => {
      const { partitions } = await brook.admin().describeGroup({ group, topic });
      return partitions.every((p) => p.lag === 0 && p.pending === 0);
    },
    { message: 'every partition to be worked off', timeoutMs, intervalMs: 200 },
  );
}
