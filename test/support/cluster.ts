import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from './brook.js';
import { addressOf, ask, deleteMatching, toObject, waitForReplicas, withClient } from './redis-admin.js';
import { freePort, RedisServer } from './redis-server.js';

/** Options of a {@link ClusterSetup}. */
export interface ClusterSetupOptions {
  /** Give each of the three primaries one replica (`true`) or this many. @defaultValue `false` */
  replicas?: boolean | number;
  /** `cluster-node-timeout`: how long a node may be unreachable before it is marked failed. @defaultValue `3000` */
  nodeTimeoutMs?: number;
  /**
   * Let replicas take over a failed primary on their own. Off by default: tests expect the
   * primaries they created, and a stalled process must not cause a failover. @defaultValue `false`
   */
  automaticFailover?: boolean;
  /** `cluster-require-full-coverage`: refuse every command while any slot is unserved. @defaultValue `true` (Redis' default) */
  requireFullCoverage?: boolean;
}

/** How a replica took over a primary that stopped answering. */
export interface Promotion {
  /** The replica that is a primary now, serving the slots the old one served. */
  promoted: RedisServer;
  /** The slots it took over. */
  slots: Array<[number, number]>;
  /** When it reported itself the primary of those slots (`Date.now()`, polled every 20 ms): it serves them from then on. */
  promotedAt: number;
  /** When every surviving node saw it so and reported the cluster healthy (`Date.now()`). */
  settledAt: number;
}

/** One line of `CLUSTER NODES`. */
export interface ClusterNodeInfo {
  id: string;
  address: string;
  role: 'master' | 'replica';
  /** The primary's node id, for replicas. */
  primaryId: string | undefined;
  /** Flagged `fail` (or `fail?`) by the node that was asked. */
  failed: boolean;
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
    const replicasPerPrimary = options.replicas === true ? 1 : options.replicas === false || options.replicas === undefined ? 0 : options.replicas;
    const count = 3 * (1 + replicasPerPrimary);
    const servers: RedisServer[] = [];
    try {
      const started = await Promise.allSettled(
        Array.from({ length: count }, async () => {
          const args = [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-port', String(await freePort()),
            '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 3_000),
            '--cluster-replica-no-failover', options.automaticFailover ? 'no' : 'yes',
            // A replica that lost its primary a while ago still takes over: the tests kill primaries
            // on purpose and want the promotion, not an unserved shard.
            '--cluster-replica-validity-factor', '0',
            '--cluster-require-full-coverage', options.requireFullCoverage === false ? 'no' : 'yes',
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
        '--cluster', 'create', ...servers.map(addressOf), '--cluster-replicas', String(replicasPerPrimary), '--cluster-yes',
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

  /** Like {@link connection}, with every node as a seed, for clients that must start while any one node is down. */
  get seeds(): { cluster: Array<{ host: string; port: number }> } {
    return { cluster: this.servers.map((server) => ({ host: '127.0.0.1', port: server.port })) };
  }

  /** The server of the harness at `host:port`. */
  serverAt(address: string): RedisServer {
    const server = this.servers.find((candidate) => addressOf(candidate) === address);
    if (server === undefined) throw new Error(`no node of this cluster listens on ${address}`);
    return server;
  }

  /** The servers that are primaries now (after failovers), as seen from a running node. */
  async currentPrimaries(): Promise<RedisServer[]> {
    const from = this.servers.find((server) => server.running)!;
    return (await this.nodes(from)).filter((node) => node.role === 'master' && node.slots.length > 0 && !node.failed).map((node) => this.serverAt(node.address));
  }

  /**
   * Waits until a replica of `primary` (stopped, killed or frozen by the test) took over its slots
   * as every running node sees it, and the cluster reports `cluster_state:ok` again.
   */
  async waitForPromotion(primary: RedisServer, timeoutMs = 30_000): Promise<Promotion> {
    const address = addressOf(primary);
    const running = () => this.servers.filter((server) => server !== primary && server.running);
    const before = await this.nodes(running()[0]);
    const old = before.find((node) => node.address === address);
    if (old === undefined || old.slots.length === 0) throw new Error(`${address} serves no slots: nothing to take over`);
    const replicas = before.filter((node) => node.primaryId === old.id).map((node) => this.serverAt(node.address));
    let promotedAt: number | undefined;
    let promoted: ClusterNodeInfo | undefined;
    await waitFor(
      async () => {
        // The replica's own view changes first: it serves the slots from the moment it won the election.
        if (promotedAt === undefined) {
          for (const replica of replicas) {
            const self = (await this.nodes(replica)).find((node) => node.address === addressOf(replica));
            if (self?.role === 'master' && self.slots.length > 0) promotedAt = Date.now();
          }
          if (promotedAt === undefined) return false;
        }
        for (const server of running()) {
          const nodes = await this.nodes(server);
          promoted = nodes.find((node) => replicas.some((replica) => addressOf(replica) === node.address) && node.role === 'master' && node.slots.length > 0);
          if (promoted === undefined) return false;
          if (!/cluster_state:ok/.test(await ask<string>(server.port, 'CLUSTER', 'INFO'))) return false;
        }
        return true;
      },
      { message: `a replica of ${address} to take over its slots`, timeoutMs, intervalMs: 20 },
    );
    return { promoted: this.serverAt(promoted!.address), slots: promoted!.slots, promotedAt: promotedAt!, settledAt: Date.now() };
  }

  /**
   * Moves `slot` from the primary `from` to the primary `to` the way `redis-cli --cluster reshard`
   * does: `SETSLOT IMPORTING` on the target, `SETSLOT MIGRATING` on the source, `MIGRATE … KEYS` in
   * steps of `keysPerStep` keys with `pauseMs` between them (clients meet `ASK` and `TRYAGAIN`
   * meanwhile), then `SETSLOT NODE` on the target, the source and every other primary (`MOVED`).
   * Resolves with when the move started and when every primary had the new owner.
   */
  async migrateSlot(slot: number, from: RedisServer, to: RedisServer, { keysPerStep = 2, pauseMs = 50 } = {}): Promise<{ startedAt: number; doneAt: number; keys: number }> {
    const nodes = await this.nodes(from);
    const idOf = (server: RedisServer) => nodes.find((node) => node.address === addressOf(server))!.id;
    const startedAt = Date.now();
    await ask(to.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', idOf(from));
    await ask(from.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', idOf(to));
    let keys = 0;
    for (;;) {
      const batch = await ask<string[]>(from.port, 'CLUSTER', 'GETKEYSINSLOT', slot, keysPerStep);
      if (batch.length === 0) break;
      await ask(from.port, 'MIGRATE', '127.0.0.1', to.port, '', 0, 5_000, 'KEYS', ...batch);
      keys += batch.length;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    const primaries = nodes.filter((node) => node.role === 'master' && node.slots.length > 0 && !node.failed).map((node) => this.serverAt(node.address));
    for (const primary of [to, from, ...primaries.filter((server) => server !== to && server !== from)]) {
      await ask(primary.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', idOf(to));
    }
    return { startedAt, doneAt: Date.now(), keys };
  }

  /**
   * Starts a killed node again with its old cluster config: it learns it was failed over and
   * rejoins as a replica of the node that took its place. Resolves once that primary counts it online.
   */
  async rejoinAsReplica(node: RedisServer, primary: RedisServer): Promise<void> {
    await node.restart();
    await waitFor(
      async () => (await this.nodes(node)).some((info) => info.address === addressOf(node) && info.role === 'replica'),
      { message: `${addressOf(node)} to rejoin as a replica`, timeoutMs: 30_000, intervalMs: 50 },
    );
    await waitFor(
      async () => {
        const info = await ask<string>(primary.port, 'INFO', 'replication');
        return [...info.matchAll(/^slave\d+:ip=([\d.]+),port=(\d+),state=online/gm)].some((match) => match[2] === String(node.port));
      },
      { message: `${addressOf(primary)} to count ${addressOf(node)} as an online replica`, timeoutMs: 30_000, intervalMs: 50 },
    );
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
        failed: flags.split(',').some((flag) => flag === 'fail' || flag === 'fail?'),
        slots,
      };
    });
}
