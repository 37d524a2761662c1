import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './scripts.js';

/** Which Redis server leads a partition and which replicate it, as `host:port`. */
export interface Leadership {
  leader: string;
  replicas: string[];
}

/** Maps a key to the servers that hold it. */
export type LeadershipLookup = (key: string) => Leadership;

/** Reads the current replication topology once and answers per key. */
export async function readTopology(client: RedisClient): Promise<LeadershipLookup> {
  if (client instanceof Cluster) {
    const shards = await readClusterShards(client);
    return (key) => shards.find((shard) => shard.slots.some(([from, to]) => slotOf(key) >= from && slotOf(key) <= to))?.leadership ?? { leader: 'unknown', replicas: [] };
  }
  const leadership = await readReplication(client);
  return () => leadership;
}

async function readReplication(client: Redis): Promise<Leadership> {
  const info = await client.info('replication');
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const self = `${client.stream?.remoteAddress ?? client.options.host}:${client.stream?.remotePort ?? client.options.port}`;
  if (field('role') === 'slave') {
    return { leader: `${field('master_host')}:${field('master_port')}`, replicas: [self] };
  }
  const replicas: string[] = [];
  for (const match of info.matchAll(/^slave\d+:(.*)$/gm)) {
    const attrs = Object.fromEntries(match[1].trim().split(',').map((kv) => kv.split('=') as [string, string]));
    if (attrs.state === 'online') replicas.push(`${attrs.ip}:${attrs.port}`);
  }
  return { leader: self, replicas };
}

interface Shard {
  slots: Array<[number, number]>;
  leadership: Leadership;
}

function pairsToObject(flat: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Array.isArray(flat)) for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  else if (flat && typeof flat === 'object') Object.assign(out, flat);
  return out;
}

async function readClusterShards(cluster: Cluster): Promise<Shard[]> {
  const reply = (await cluster.call('CLUSTER', 'SHARDS')) as unknown[];
  return reply.map((raw) => {
    const shard = pairsToObject(raw);
    const ranges = (shard.slots as Array<number | string>).map(Number);
    const slots: Array<[number, number]> = [];
    for (let i = 0; i + 1 < ranges.length; i += 2) slots.push([ranges[i], ranges[i + 1]]);
    const nodes = (shard.nodes as unknown[]).map(pairsToObject);
    const address = (node: Record<string, unknown>) => `${node.ip ?? node.endpoint}:${node.port ?? node['tls-port']}`;
    const primary = nodes.find((n) => n.role === 'master');
    return {
      slots,
      leadership: {
        leader: primary ? address(primary) : 'unknown',
        replicas: nodes.filter((n) => n.role === 'replica' && n.health === 'online').map(address),
      },
    };
  });
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
