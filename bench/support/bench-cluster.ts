import { Redis } from 'ioredis';
import { slotOf } from '../../libs/broker/src/redis/topology.js';
import { freePort, RedisServer } from '../../test/support/redis-server.js';

/** A Redis Cluster of primaries only, for benchmarks. */
export interface BenchCluster {
  servers: RedisServer[];
  /** What to pass as `redis` to Brook. */
  connection: { cluster: Array<{ host: string; port: number }> };
  /** The index of the server that serves `key`. */
  shardOf(key: string): number;
  /** Seconds of CPU (user + sys, all threads) each server has used so far. */
  cpuSeconds(): Promise<number[]>;
  stop(): Promise<void>;
}

/**
 * Starts `primaries` cluster-enabled redis-servers (no replicas) and gives each one slot range so
 * that `keys` (the partition logs) split evenly over them, as an operator balances partitions by
 * resharding. `redis-cli --cluster create` needs 3 primaries or more; slots are assigned with
 * `CLUSTER ADDSLOTSRANGE` and the nodes joined with `CLUSTER MEET`, which also works for 1 and 2.
 * Each node announces 127.0.0.1: a node learns its own address from the others, so a lone one
 * would report an empty one in `CLUSTER SLOTS`.
 */
export async function startBenchCluster(primaries: number, keys: string[]): Promise<BenchCluster> {
  const busPorts: number[] = [];
  const servers = await Promise.all(
    Array.from({ length: primaries }, async (_, i) => {
      const busPort = await freePort();
      busPorts[i] = busPort;
      return RedisServer.start({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort), '--cluster-node-timeout', '5000', '--cluster-announce-ip', '127.0.0.1'] });
    }),
  );
  const clients = servers.map((server) => new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true }));
  try {
    const ranges = balancedRanges(primaries, keys.map(slotOf));
    await Promise.all(clients.map((client, i) => client.call('CLUSTER', 'ADDSLOTSRANGE', ranges[i][0], ranges[i][1])));
    for (let i = 1; i < servers.length; i++) await clients[0].call('CLUSTER', 'MEET', '127.0.0.1', servers[i].port, busPorts[i]);
    const deadline = Date.now() + 30_000;
    for (const client of clients) {
      for (;;) {
        const info = String(await client.call('CLUSTER', 'INFO'));
        if (/cluster_state:ok/.test(info) && new RegExp(`cluster_known_nodes:${primaries}\\b`).test(info)) break;
        if (Date.now() > deadline) throw new Error(`the bench cluster of ${primaries} did not reach cluster_state:ok:\n${info}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    throw error;
  } finally {
    for (const client of clients) client.disconnect();
  }
  const ranges = balancedRanges(primaries, keys.map(slotOf));
  const stats = servers.map((server) => new Redis({ port: server.port, host: '127.0.0.1', connectionName: 'bench-cpu' }));
  return {
    servers,
    connection: { cluster: [{ host: '127.0.0.1', port: servers[0].port }] },
    shardOf: (key) => {
      const slot = slotOf(key);
      return ranges.findIndex(([from, to]) => slot >= from && slot <= to);
    },
    cpuSeconds: () =>
      Promise.all(
        stats.map(async (client) => {
          const info = await client.info('cpu');
          const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
          return field('used_cpu_user') + field('used_cpu_sys');
        }),
      ),
    stop: async () => {
      for (const client of stats) client.disconnect();
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}

/**
 * `shards` contiguous slot ranges covering 0–16383 such that the sorted `slots` split into groups
 * of equal size (± 1), one group per range.
 */
export function balancedRanges(shards: number, slots: number[]): Array<[number, number]> {
  const sorted = [...slots].sort((a, b) => a - b);
  const starts = [0, ...Array.from({ length: shards - 1 }, (_, i) => sorted[Math.round(((i + 1) * sorted.length) / shards)])];
  return starts.map((from, i) => [from, i + 1 < starts.length ? starts[i + 1] - 1 : 16_383]);
}
