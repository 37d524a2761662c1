import { InvalidArgumentError, type RedisConnection } from '@brook/broker';

/**
 * The environment variables that say where Redis is. At most one of `REDIS_URL`,
 * `REDIS_CLUSTER_NODES` and `REDIS_SENTINELS` may be set; the others refine the one chosen.
 */
export const REDIS_ENVIRONMENT = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_MASTER',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_USERNAME',
  'REDIS_PASSWORD',
] as const;

type Env = Partial<Record<(typeof REDIS_ENVIRONMENT)[number], string>>;

/** `host:port` as ioredis takes it. */
interface HostPort {
  host: string;
  port: number;
}

/**
 * Reads the Redis connection from the environment: a URL (single node), Cluster seed nodes, or
 * sentinels and the master name they monitor. Undefined when none is set (the host's default URL
 * applies). Returns the same connection options a Brook client takes.
 */
export function redisConnectionFromEnv(env: NodeJS.ProcessEnv): RedisConnection | undefined {
  const read = Object.fromEntries(REDIS_ENVIRONMENT.map((name) => [name, env[name]?.trim() || undefined])) as Env;
  const chosen = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((name) => read[name] !== undefined);
  if (chosen.length > 1) {
    throw new InvalidArgumentError(`Set only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS; got ${chosen.join(' and ')}.`);
  }
  const auth = { ...(read.REDIS_USERNAME && { username: read.REDIS_USERNAME }), ...(read.REDIS_PASSWORD && { password: read.REDIS_PASSWORD }) };
  if (read.REDIS_SENTINEL_MASTER !== undefined && read.REDIS_SENTINELS === undefined) {
    throw new InvalidArgumentError('REDIS_SENTINEL_MASTER needs REDIS_SENTINELS, the sentinels to ask, e.g. REDIS_SENTINELS=10.0.0.1:26379,10.0.0.2:26379.');
  }
  if (read.REDIS_CLUSTER_NODES !== undefined) {
    return { cluster: parseHostPorts('REDIS_CLUSTER_NODES', read.REDIS_CLUSTER_NODES), ...(Object.keys(auth).length > 0 && { options: { redisOptions: auth } }) };
  }
  if (read.REDIS_SENTINELS !== undefined) {
    if (read.REDIS_SENTINEL_MASTER === undefined) {
      throw new InvalidArgumentError('REDIS_SENTINELS needs REDIS_SENTINEL_MASTER, the master name the sentinels monitor (as in "sentinel monitor <name> …"), e.g. REDIS_SENTINEL_MASTER=mymaster.');
    }
    return {
      sentinels: parseHostPorts('REDIS_SENTINELS', read.REDIS_SENTINELS),
      name: read.REDIS_SENTINEL_MASTER,
      ...(read.REDIS_SENTINEL_PASSWORD && { sentinelPassword: read.REDIS_SENTINEL_PASSWORD }),
      ...auth,
    };
  }
  if (read.REDIS_USERNAME !== undefined || read.REDIS_PASSWORD !== undefined) {
    if (read.REDIS_URL === undefined) {
      throw new InvalidArgumentError('REDIS_USERNAME and REDIS_PASSWORD apply to REDIS_CLUSTER_NODES or REDIS_SENTINELS; with REDIS_URL put them in the URL (redis://user:password@host:6379).');
    }
    throw new InvalidArgumentError('REDIS_USERNAME and REDIS_PASSWORD apply to REDIS_CLUSTER_NODES or REDIS_SENTINELS; put them in REDIS_URL instead (redis://user:password@host:6379).');
  }
  return read.REDIS_URL;
}

/** Parses `host:port,host:port` (IPv6 as `[::1]:6379`), naming the variable in errors. */
function parseHostPorts(variable: string, raw: string): HostPort[] {
  return raw.split(',').map((entry) => {
    const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[3]);
    if (match === null || port < 1 || port > 65_535) {
      throw new InvalidArgumentError(`${variable} must list host:port entries separated by commas, e.g. 10.0.0.1:6379,10.0.0.2:6379; got ${JSON.stringify(entry.trim())}.`);
    }
    return { host: match[1] ?? match[2], port };
  });
}

/** Where a connection points, without passwords, for the startup log. */
export function describeRedis(connection: RedisConnection): string {
  if (typeof connection === 'string') {
    try {
      const parsed = new URL(connection);
      if (parsed.password !== '') parsed.password = '***';
      return parsed.toString();
    } catch {
      return '(unparsable REDIS_URL)';
    }
  }
  const list = (nodes: unknown[]) => nodes.map((n) => (typeof n === 'object' && n !== null ? `${(n as HostPort).host}:${(n as HostPort).port}` : String(n))).join(',');
  if ('cluster' in connection) return `Cluster via ${list(connection.cluster)}`;
  if (connection.sentinels) return `Sentinel master '${connection.name}' via ${list(connection.sentinels)}`;
  return `${connection.host ?? '127.0.0.1'}:${connection.port ?? 6379}`;
}
