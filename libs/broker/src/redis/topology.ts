import { Cluster, type Redis } from 'ioredis';
import { withTimeout } from './request-timeout.js';
import { parseClusterShards, parseClusterSlots, parseReplicationInfo, type ReplicationInfo, type Shard } from './replication-info.js';
import type { RedisClient } from './scripts.js';

/**
 * Most bytes a replica may be behind its primary's replication offset and still count as in sync,
 * unless a call says otherwise. Replicas acknowledge their offset once a second, so the measured
 * lag includes up to a second of writes: 1 MiB keeps a replica of a shard taking under about
 * 1 MiB/s in sync while it keeps up, and flags one that stopped applying within a second or two
 * under such load.
 */
export const DEFAULT_MAX_REPLICA_LAG_BYTES = 1_048_576;

/** One replica of a partition's leader. */
export interface ReplicaStatus {
  /** `host:port`. */
  address: string;
  /**
   * `online`, or what keeps it from being online: `wait_bgsave` and `send_bulk` (a full sync in
   * progress, as the primary reports it), `loading`, `failed` (Cluster health) or `unknown`.
   */
  state: string;
  /** Replication offset (bytes) the replica last acknowledged; null when unknown. */
  offset: number | null;
  /** Bytes the replica is behind the leader's replication offset; null when unknown. */
  lagBytes: number | null;
  /** Online and at most `maxLagBytes` behind; a replica whose lag is unknown is not counted. */
  inSync: boolean;
}

/** Which Redis server leads a partition and which replicate it, as `host:port`. */
export interface Leadership {
  /** The primary serving the partition's slot, or `'unknown'` when none does. */
  leader: string;
  /** Every replica of the leader, whatever its state (Kafka's replicas). */
  replicas: string[];
  /** The replicas that are online and within the lag threshold (Kafka's ISR). */
  inSyncReplicas: string[];
  /** Per replica: state, acknowledged offset and lag behind the leader. */
  replicaStatus: ReplicaStatus[];
}

/** One Redis server of the deployment. */
export interface RedisNode {
  /** Cluster node id; null outside a Cluster. */
  id: string | null;
  /** `host:port`. */
  address: string;
  role: 'primary' | 'replica';
  /** For a replica: the `host:port` of its primary. */
  primary: string | null;
  /** `online` when healthy; otherwise the state a replica or failing node is in. */
  state: string;
  /** Hash slot ranges it serves (primaries of a Cluster); `[[0, 16383]]` for a lone primary. */
  slots: Array<[number, number]>;
  /** Replication offset in bytes; null when unknown. */
  replicationOffset: number | null;
  /** For a replica: bytes behind its primary; null for primaries or when unknown. */
  lagBytes: number | null;
  /** For a replica: whether it counts as in sync; null for primaries. */
  inSync: boolean | null;
}

/** How Brook is connected to Redis. */
export type DeploymentMode = 'standalone' | 'sentinel' | 'cluster';

/** The replication topology as read at one moment. */
export interface Topology {
  mode: DeploymentMode;
  nodes: RedisNode[];
  /** The servers that hold `key`. */
  leadershipOf(key: string): Leadership;
}

/** What {@link readTopology} needs to know. */
export interface TopologyReadOptions {
  /** See {@link DEFAULT_MAX_REPLICA_LAG_BYTES}. */
  maxLagBytes: number;
  /** How long each server may take to answer `INFO replication`; a server that does not is reported with unknown offsets. */
  timeoutMs: number;
}

const ALL_SLOTS: Array<[number, number]> = [[0, 16_383]];
const UNKNOWN: Leadership = { leader: 'unknown', replicas: [], inSyncReplicas: [], replicaStatus: [] };

/**
 * Reads the current replication topology: `CLUSTER SHARDS` (or `CLUSTER SLOTS` where refused) for
 * the shape of a Cluster and `INFO replication` of each primary for offsets. Offsets come from the
 * primaries rather than from `CLUSTER SHARDS`, whose offsets of other nodes are gossip that can be
 * half a node timeout old.
 */
export async function readTopology(client: RedisClient, options: TopologyReadOptions): Promise<Topology> {
  if (client instanceof Cluster) return readClusterTopology(client, options);
  const info = parseReplicationInfo(await client.info('replication'));
  const self = `${client.stream?.remoteAddress ?? client.options.host}:${client.stream?.remotePort ?? client.options.port}`;
  const mode: DeploymentMode = client.options.sentinels ? 'sentinel' : 'standalone';
  const nodes = info.role === 'replica' ? nodesSeenFromReplica(self, info) : nodesOfShard(null, self, ALL_SLOTS, info, [], options.maxLagBytes);
  const leadership = leadershipOfShard(nodes);
  return { mode, nodes, leadershipOf: () => leadership };
}

async function readClusterTopology(cluster: Cluster, options: TopologyReadOptions): Promise<Topology> {
  const shards = await readShards(cluster);
  const clients = new Map(cluster.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
  const byShard = await Promise.all(
    shards.map(async (shard) => {
      const primary = shard.nodes.find((node) => node.role === 'primary');
      if (primary === undefined) return { shard, nodes: [] as RedisNode[] };
      const info = await readInfo(clients.get(primary.address), options.timeoutMs);
      return { shard, nodes: nodesOfShard(primary.id, primary.address, shard.slots, info, shard.nodes, options.maxLagBytes, primary.health) };
    }),
  );
  const ranges = byShard
    .flatMap(({ shard, nodes }) => shard.slots.map(([from, to]) => ({ from, to, leadership: leadershipOfShard(nodes) })))
    .sort((a, b) => a.from - b.from);
  return {
    mode: 'cluster',
    nodes: byShard.flatMap(({ nodes }) => nodes),
    leadershipOf: (key) => {
      const slot = slotOf(key);
      return ranges.find(({ from, to }) => slot >= from && slot <= to)?.leadership ?? UNKNOWN;
    },
  };
}

async function readShards(cluster: Cluster): Promise<Shard[]> {
  try {
    return parseClusterShards((await cluster.call('CLUSTER', 'SHARDS')) as unknown[]);
  } catch (error) {
    // Servers or proxies that do not offer CLUSTER SHARDS still answer CLUSTER SLOTS (without health or offsets).
    if (!/unknown (sub)?command|NOPERM|not allowed/i.test(String((error as Error).message))) throw error;
    return parseClusterSlots((await cluster.call('CLUSTER', 'SLOTS')) as unknown[]);
  }
}

async function readInfo(client: Redis | undefined, timeoutMs: number): Promise<ReplicationInfo | undefined> {
  if (client === undefined) return undefined;
  try {
    return parseReplicationInfo(await withTimeout(client.info('replication'), timeoutMs, 'read INFO replication'));
  } catch {
    return undefined;
  }
}

/**
 * A primary and its replicas. Replicas and offsets come from the primary's `INFO replication`
 * when it answered, else from what the Cluster reported (`known`).
 */
function nodesOfShard(
  id: string | null,
  address: string,
  slots: Array<[number, number]>,
  info: ReplicationInfo | undefined,
  known: Shard['nodes'],
  maxLagBytes: number,
  health = 'online',
): RedisNode[] {
  const primaryOffset = info?.offset ?? known.find((node) => node.address === address)?.offset ?? null;
  const primary: RedisNode = { id, address, role: 'primary', primary: null, state: health, slots, replicationOffset: primaryOffset, lagBytes: null, inSync: null };
  const fromInfo = new Map((info?.replicas ?? []).map((replica) => [replica.address, replica]));
  const addresses = [...new Set([...known.filter((node) => node.role === 'replica').map((node) => node.address), ...fromInfo.keys()])];
  const replicas = addresses.map((replicaAddress): RedisNode => {
    const listed = fromInfo.get(replicaAddress);
    const gossip = known.find((node) => node.address === replicaAddress);
    // A replica the primary does not list is not connected to it, whatever the Cluster's health says.
    const state = listed?.state ?? (info !== undefined ? 'disconnected' : gossip?.health ?? 'unknown');
    const offset = listed?.offset ?? (info !== undefined ? null : gossip?.offset ?? null);
    const lagBytes = offset === null || primaryOffset === null ? null : Math.max(0, primaryOffset - offset);
    return {
      id: gossip?.id ?? null,
      address: replicaAddress,
      role: 'replica',
      primary: address,
      state,
      slots: [],
      replicationOffset: offset,
      lagBytes,
      inSync: state === 'online' && lagBytes !== null && lagBytes <= maxLagBytes,
    };
  });
  return [primary, ...replicas];
}

/** Connected to a replica: its primary is known by address only. */
function nodesSeenFromReplica(self: string, info: ReplicationInfo): RedisNode[] {
  const primary = info.primary!.address;
  return [
    { id: null, address: primary, role: 'primary', primary: null, state: 'unknown', slots: ALL_SLOTS, replicationOffset: null, lagBytes: null, inSync: null },
    { id: null, address: self, role: 'replica', primary, state: info.primary!.linkUp ? 'online' : 'disconnected', slots: [], replicationOffset: info.offset, lagBytes: null, inSync: false },
  ];
}

function leadershipOfShard(nodes: RedisNode[]): Leadership {
  const primary = nodes.find((node) => node.role === 'primary');
  if (primary === undefined) return UNKNOWN;
  const replicas = nodes.filter((node) => node.role === 'replica');
  return {
    leader: primary.address,
    replicas: replicas.map((node) => node.address),
    inSyncReplicas: replicas.filter((node) => node.inSync).map((node) => node.address),
    replicaStatus: replicas.map(({ address, state, replicationOffset, lagBytes, inSync }) => ({ address, state, offset: replicationOffset, lagBytes, inSync: inSync === true })),
  };
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/**
 * The `host:port` of the Cluster node serving `key` according to the client's slot map, or
 * undefined (standalone, or the slot map does not know it).
 */
export function nodeServing(client: RedisClient, key: string): string | undefined {
  if (!(client instanceof Cluster)) return undefined;
  const slots = (client as unknown as { slots?: string[][] }).slots;
  return slots?.[slotOf(key)]?.[0];
}

/** The Redis Cluster hash slot of a key (CRC16/XMODEM of its hash tag, mod 16384). */
export function slotOf(key: string): number {
  let hashed = key;
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed)) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc % 16_384;
}
