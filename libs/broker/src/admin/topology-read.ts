import { assertInteger } from '../client/brook.options.js';
import type { BrookContext } from '../client/context.js';
import { DEFAULT_MAX_REPLICA_LAG_BYTES, readTopology, type Topology } from '../redis/topology.js';

/** How `describeTopic` and `describeCluster` judge replicas. */
export interface TopologyOptions {
  /**
   * Most bytes a replica may be behind its primary's replication offset and still count as in
   * sync (it must be online too). Replicas acknowledge once a second, so set it above a second of
   * the shard's write volume. @defaultValue `1_048_576`
   */
  maxLagBytes?: number;
}

/** Checks `options`, then reads the replication topology once. */
export async function readTopologyWith(ctx: BrookContext, options: TopologyOptions = {}): Promise<Topology & { maxLagBytes: number }> {
  const maxLagBytes = options?.maxLagBytes ?? DEFAULT_MAX_REPLICA_LAG_BYTES;
  assertInteger('maxLagBytes', maxLagBytes, 0);
  await ctx.ready();
  const topology = await ctx.run('read the Redis topology', () => readTopology(ctx.client, { maxLagBytes, timeoutMs: ctx.options.connection.commandTimeoutMs }));
  return Object.assign(topology, { maxLagBytes });
}
