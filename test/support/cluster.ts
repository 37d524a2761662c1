import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from './brook.js';
import { addressOf, ask, deleteMatching, toObject, waitForReplicas, withClient } from './redis-admin.js';
import { freePort, RedisServer } from './redis-server.js';

/** Options of a {@link ClusterSetup}. */
export interface ClusterSetupOptions {
  /** Give each of the three primaries one replica. @defaultValue `false` */
  replicas?: boolean;
}

/** One line of `CLUSTER NODES`. */
export interface ClusterNodeInfo {
  id: string;
  address: string;
  role: 'master' | 'replica';
  /** The primary's node id, for replicas. */
  primaryId: string | undefined;
  slots: Array<[number, number]>;
}

/**
 * A Redis Cluster of three primaries (and optionally one replica each) on free ports, created with
 * `redis-cli --cluster create`. Every node gets its own cluster bus port, so the `port + 10_000`
 * convention never collides with other processes.
 */
export class ClusterSetup {
  private constructor(
    readonly servers: RedisServer[],
    readonly primaries: RedisServer[],
    readonly replicas: RedisServer[],
  ) {}

  /** Starts the nodes, joins them into one cluster and waits until every node reports it healthy. */
  static async start(options: ClusterSetupOptions = {}): Promise<ClusterSetup> {
    const count = options.replicas ? 6 : 3;
    const servers: RedisServer[] = [];
    try {
      const started = await Promise.allSettled(
        Array.from({ length: count }, async () => {
          const args = [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-port', String(await freePort()),
            '--cluster-node-timeout', '3000',
            // Tests expect the primaries they created; a stalled process must not cause a failover.
            '--cluster-replica-no-failover', 'yes',
            // Redis reports a replica at replication offset 0 as 'loading'; pings move the offset.
            '--repl-ping-replica-period', '1',
          ];
          return RedisServer.start({ args });
        }),
      );
      for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
      const failed = started.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      await promisify(execFile)('redis-cli', [
        '--cluster', 'create', ...servers.map(addressOf), '--cluster-replicas', options.replicas ? '1' : '0', '--cluster-yes',
      ]);
      // Right after creation the replicas may still look like empty primaries; the slots tell them apart.
      const nodes = await readClusterNodes(servers[0].port);
      const hasSlots = (server: RedisServer) => nodes.some((node) => node.address === addressOf(server) && node.slots.length > 0);
      const setup = new ClusterSetup(servers, servers.filter(hasSlots), servers.filter((server) => !hasSlots(server)));
      await setup.waitUntilHealthy();
      return setup;
    } catch (error) {
      await Promise.all(servers.map((server) => server.stop()));
      throw error;
    }
  }

  /** What to pass as `redis` to Brook: one seed node is enough. */
  get connection(): { cluster: Array<{ host: string; port: number }> } {
    return { cluster: [{ host: '127.0.0.1', port: this.primaries[0].port }] };
  }

  /** The cluster as one node sees it. */
  nodes(from: RedisServer = this.primaries[0]): Promise<ClusterNodeInfo[]> {
    return readClusterNodes(from.port);
  }

  /** `host:port` of the primary that really serves `key`, asked of the cluster itself. */
  async primaryFor(key: string): Promise<string> {
    const slot = await ask<number>(this.primaries[0].port, 'CLUSTER', 'KEYSLOT', key);
    const owner = (await this.nodes()).find((node) => node.role === 'master' && node.slots.some(([from, to]) => slot >= from && slot <= to));
    if (owner === undefined) throw new Error(`no primary serves slot ${slot}`);
    return owner.address;
  }

  /** `host:port` of each replica of the primary at `address`. */
  async replicasOf(address: string): Promise<string[]> {
    const nodes = await this.nodes();
    const primary = nodes.find((node) => node.address === address);
    return nodes.filter((node) => node.primaryId === primary?.id).map((node) => node.address);
  }

  /** Runs a read command on a replica, which in a cluster serves reads only after `READONLY`. */
  readFromReplica<T = unknown>(address: string, ...args: Array<string | number>): Promise<T> {
    return withClient(Number(address.split(':')[1]), async (client) => {
      await client.call('READONLY');
      return (await client.call(String(args[0]), ...args.slice(1))) as T;
    });
  }

  /** Deletes every key under `prefix` on every primary; replicas follow. */
  async deleteKeys(prefix: string): Promise<void> {
    await Promise.all(this.primaries.map((primary) => deleteMatching(primary.port, `${prefix}:*`)));
  }

  /** Stops every node and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
  }

  private async waitUntilHealthy(): Promise<void> {
    for (const server of this.servers) {
      await waitFor(
        async () => {
          const info = await ask<string>(server.port, 'CLUSTER', 'INFO');
          return /cluster_state:ok/.test(info) && new RegExp(`cluster_known_nodes:${this.servers.length}\\b`).test(info);
        },
        { message: `node ${server.port} to report cluster_state:ok`, timeoutMs: 20_000, intervalMs: 20 },
      );
    }
    // Every node must list every replica as online, or views read from different nodes disagree.
    for (const server of this.servers) {
      await waitFor(
        async () => {
          const shards = await ask<unknown[]>(server.port, 'CLUSTER', 'SHARDS');
          const online = shards.flatMap((shard) => (toObject(shard).nodes as unknown[]).map(toObject));
          return online.filter((node) => node.role === 'replica' && node.health === 'online').length === this.replicas.length;
        },
        // Gossip spreads this; a node may take a few node timeouts to hear from every replica.
        { message: `node ${server.port} to list every replica as online`, timeoutMs: 20_000, intervalMs: 20 },
      );
    }
    await Promise.all(this.primaries.map((primary) => waitForReplicas(primary, this.replicas.length / this.primaries.length)));
  }
}

/** Parses `CLUSTER NODES` as seen from the node on `port`. */
export async function readClusterNodes(port: number): Promise<ClusterNodeInfo[]> {
  const text = await ask<string>(port, 'CLUSTER', 'NODES');
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, primaryId, , , , , ...slotRanges] = line.trim().split(' ');
      const slots = slotRanges
        .filter((range) => !range.startsWith('['))
        .map((range) => {
          const [from, to = from] = range.split('-').map(Number);
          return [from, to] as [number, number];
        });
      return {
        id,
        address: address.split('@')[0],
        role: flags.includes('master') ? 'master' : 'replica',
        primaryId: primaryId === '-' ? undefined : primaryId,
        slots,
      };
    });
}
