/**
 * Parsers of what Redis says about replication: `INFO replication`, `CLUSTER SHARDS` and
 * `CLUSTER SLOTS`. Pure functions over the replies, so the unit tier checks them without Redis.
 */

/** A replica as its primary lists it in `INFO replication` (`slaveN:ip=…,port=…,state=…,offset=…,lag=…`). */
export interface ReplicaLine {
  address: string;
  /** `online`, or a sync in progress: `wait_bgsave`, `send_bulk`. */
  state: string;
  /** Replication offset the replica last acknowledged (it acknowledges once a second). */
  offset: number;
}

/** `INFO replication` of one server. */
export interface ReplicationInfo {
  role: 'primary' | 'replica';
  /** This server's replication offset (bytes of the replication stream it produced or applied). */
  offset: number | null;
  /** For a replica: `host:port` of its primary, and whether its link to it is up. */
  primary: { address: string; linkUp: boolean } | null;
  /** For a primary: its replicas. */
  replicas: ReplicaLine[];
}

/** Parses the text of `INFO replication`. */
export function parseReplicationInfo(info: string): ReplicationInfo {
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const number = (value: string | undefined) => (value === undefined || value === '' || !Number.isFinite(Number(value)) ? null : Number(value));
  if (field('role') === 'slave') {
    return {
      role: 'replica',
      offset: number(field('slave_repl_offset')),
      primary: { address: `${field('master_host')}:${field('master_port')}`, linkUp: field('master_link_status') === 'up' },
      replicas: [],
    };
  }
  const replicas: ReplicaLine[] = [];
  for (const match of info.matchAll(/^slave\d+:(.*)$/gm)) {
    const attrs = Object.fromEntries(
      match[1]
        .trim()
        .split(',')
        .map((pair) => {
          const at = pair.indexOf('=');
          return [pair.slice(0, at), pair.slice(at + 1)];
        }),
    );
    replicas.push({ address: `${attrs.ip}:${attrs.port}`, state: attrs.state ?? 'unknown', offset: Number(attrs.offset ?? 0) });
  }
  return { role: 'primary', offset: number(field('master_repl_offset')), primary: null, replicas };
}

/** One node of a Cluster shard. */
export interface ShardNode {
  id: string | null;
  address: string;
  role: 'primary' | 'replica';
  /** `online`, `failed` or `loading` (`CLUSTER SHARDS`); `unknown` from `CLUSTER SLOTS`. */
  health: string;
  /** Replication offset as the answering node last heard it (gossip), null from `CLUSTER SLOTS`. */
  offset: number | null;
}

/** A primary with its slot ranges and replicas. */
export interface Shard {
  slots: Array<[number, number]>;
  nodes: ShardNode[];
}

/** A flat `[field, value, …]` reply (RESP2) or a map (RESP3) as an object. */
function toObject(flat: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Array.isArray(flat)) for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  else if (flat && typeof flat === 'object') Object.assign(out, flat);
  return out;
}

/** Parses `CLUSTER SHARDS` (Redis ≥ 7.0). Shards without slots (no primary serving anything) are kept. */
export function parseClusterShards(reply: unknown[]): Shard[] {
  return reply.map((raw) => {
    const shard = toObject(raw);
    const ranges = ((shard.slots as Array<number | string> | undefined) ?? []).map(Number);
    const slots: Array<[number, number]> = [];
    for (let i = 0; i + 1 < ranges.length; i += 2) slots.push([ranges[i], ranges[i + 1]]);
    const nodes = ((shard.nodes as unknown[] | undefined) ?? []).map(toObject).map(
      (node): ShardNode => ({
        id: node.id === undefined ? null : String(node.id),
        // `ip` is what clients connect to; `endpoint` may be a hostname or '?' when unknown.
        address: `${String(node.ip ?? node.endpoint)}:${Number(node.port ?? node['tls-port'])}`,
        role: node.role === 'master' ? 'primary' : 'replica',
        health: String(node.health ?? 'unknown'),
        offset: node['replication-offset'] === undefined ? null : Number(node['replication-offset']),
      }),
    );
    return { slots, nodes };
  });
}

/**
 * Parses `CLUSTER SLOTS` (the fallback where `CLUSTER SHARDS` is refused): each entry is a slot
 * range, its primary and its replicas. Ranges of one primary are merged into one shard.
 */
export function parseClusterSlots(reply: unknown[]): Shard[] {
  const byPrimary = new Map<string, Shard>();
  for (const entry of reply as unknown[][]) {
    const [from, to, ...servers] = entry as [number, number, ...unknown[][]];
    const nodes = servers.map(
      ([ip, port, id], i): ShardNode => ({
        id: id === undefined ? null : String(id),
        address: `${String(ip)}:${Number(port)}`,
        role: i === 0 ? 'primary' : 'replica',
        health: 'unknown',
        offset: null,
      }),
    );
    const key = nodes[0]?.address ?? `unknown-${from}`;
    const shard = byPrimary.get(key) ?? { slots: [], nodes };
    shard.slots.push([Number(from), Number(to)]);
    byPrimary.set(key, shard);
  }
  return [...byPrimary.values()];
}
