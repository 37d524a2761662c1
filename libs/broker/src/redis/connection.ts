import { Cluster, Redis } from 'ioredis';
import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import { BrokerConnectionError, BrokerError, InvalidArgumentError, LeaderNotAvailableError, RedisOutOfMemoryError, RedisPermissionError, UnsupportedRedisError } from '../errors/errors.js';
import { defineScripts, type RedisClient } from './scripts.js';

/** Connection to a Redis Cluster: seed nodes and ioredis cluster options. */
export interface ClusterConnection {
  cluster: ClusterNode[];
  options?: ClusterOptions;
}

/**
 * Where Redis is: a `redis://` or `rediss://` URL, ioredis options (including `{ sentinels, name }`
 * for Sentinel), or `{ cluster: [...] }` for Redis Cluster.
 */
export type RedisConnection = string | RedisOptions | ClusterConnection;

/** How connections behave when Redis goes away. */
export interface ConnectionSettings {
  /** Reconnect attempts a request waits through before it fails with `BrokerConnectionError`. */
  retries: number;
  /** First reconnect delay; doubles per attempt. */
  initialBackoffMs: number;
  /** Cap on the reconnect delay. */
  maxBackoffMs: number;
  /** How long one connection attempt may take. */
  connectTimeoutMs: number;
  /** How long a request may wait for its reply before it fails with `RequestTimeoutError` (it may still run later). */
  commandTimeoutMs: number;
}

/** What a new connection is for. */
export interface ConnectionRole {
  /** Shown in `CLIENT LIST`. */
  name: string;
  /** Requests wait for Redis indefinitely instead of failing after `retries` (consumers, which resume by themselves). */
  waitForever?: boolean;
}

export function isClusterConnection(connection: RedisConnection): connection is ClusterConnection {
  return typeof connection === 'object' && connection !== null && 'cluster' in connection;
}

/** How often a Cluster connection reads the slot map when nothing else made it (ioredis `slotsRefreshInterval`). */
export const CLUSTER_SLOTS_REFRESH_MS = 1_000;

function backoff(settings: ConnectionSettings): (times: number) => number {
  return (times) => Math.min(settings.initialBackoffMs * 2 ** Math.max(0, times - 1), settings.maxBackoffMs);
}

/** Opens a lazily connecting client with Brook's scripts defined. */
export function createConnection(connection: RedisConnection, settings: ConnectionSettings, role: ConnectionRole): RedisClient {
  const common = {
    lazyConnect: true,
    connectionName: role.name,
    connectTimeout: settings.connectTimeoutMs,
    maxRetriesPerRequest: role.waitForever ? null : settings.retries,
    // Brook batches on its own (a producer sends one script per partition per tick, a consumer one
    // acknowledgement batch per partition at a time). ioredis' auto-pipelining on top of that only
    // holds each command back to the next tick: it doubled a lone command's round trip and cost
    // the produce benchmark a quarter of its throughput.
    enableAutoPipelining: false,
    // A command whose connection dropped may or may not have run. Re-sending it blindly is how one
    // send became two appends; Brook's own callers retry, with requests Redis recognises as repeats.
    autoResendUnfulfilledCommands: false,
    // CLIENT SETINFO only labels the connection, exists from Redis 7.2 on and would need one more
    // ACL permission (a refusal is ignored, but fills the ACL log).
    disableClientInfo: true,
  } satisfies RedisOptions;
  let client: RedisClient;
  if (isClusterConnection(connection)) {
    if (!Array.isArray(connection.cluster) || connection.cluster.length === 0) {
      throw new InvalidArgumentError('redis.cluster must list at least one seed node, e.g. { cluster: [{ host: "10.0.0.1", port: 6379 }] }.');
    }
    const { redisOptions, ...clusterOptions } = connection.options ?? {};
    client = new Cluster(connection.cluster, {
      // The slot map is read again every second, not only after a redirection or a dropped
      // connection: a primary that froze (no reply, no drop) and was failed over redirects nobody,
      // and without a refresh its slots' requests would keep going to it.
      slotsRefreshInterval: CLUSTER_SLOTS_REFRESH_MS,
      ...clusterOptions,
      lazyConnect: true,
      enableAutoPipelining: false,
      clusterRetryStrategy: backoff(settings),
      redisOptions: { ...redisOptions, ...common },
    });
  } else if (typeof connection === 'string') {
    if (!/^rediss?:\/\//.test(connection)) {
      throw new InvalidArgumentError(
        `redis must be a redis:// or rediss:// URL, ioredis options or { cluster: [...] }; got ${JSON.stringify(connection)}.`,
      );
    }
    client = new Redis(connection, { ...common, retryStrategy: backoff(settings) });
  } else if (typeof connection === 'object' && connection !== null) {
    // After a failover the old primary keeps accepting writes until Sentinel demotes it, seconds
    // later, and discards them. The failover detector makes the client leave it as soon as the
    // sentinels announce the new primary.
    const sentinel = connection.sentinels ? { failoverDetector: true } : {};
    client = new Redis({ ...sentinel, ...connection, ...common, retryStrategy: backoff(settings) });
  } else {
    throw new InvalidArgumentError('The redis option is required: a redis:// URL, ioredis options, { sentinels, name } or { cluster: [...] }.');
  }
  defineScripts(client);
  if (client instanceof Cluster) {
    client.on('+node', (node: Redis) => rejectInFlightOnClose(node));
  } else {
    rejectInFlightOnClose(client);
    reconnectAfterUnexpectedEnd(client, settings);
  }
  return client;
}

/**
 * ioredis' Sentinel failover detector can end a connection for good when the sentinels announce a
 * new primary while the client is asking them for the current one. A connection that ends without
 * being closed on purpose connects again, with the usual backoff.
 */
function reconnectAfterUnexpectedEnd(client: Redis, settings: ConnectionSettings): void {
  let closing = false;
  for (const method of ['quit', 'disconnect'] as const) {
    const original = client[method].bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      // disconnect(true) is ioredis reconnecting on its own (the failover detector does it).
      if (!(method === 'disconnect' && args[0] === true)) closing = true;
      return original(...args);
    };
  }
  let attempts = 0;
  client.on('ready', () => (attempts = 0));
  client.on('end', () => {
    if (closing) return;
    setTimeout(() => {
      if (!closing && client.status === 'end') client.connect().catch(() => undefined);
    }, backoff(settings)(++attempts)).unref();
  });
}

/**
 * With `autoResendUnfulfilledCommands: false`, ioredis drops the commands that were in flight when a
 * connection closed without settling their promises: their callers would wait for their timeouts.
 * They are rejected as the connection closes instead, so every caller learns at once that the
 * outcome is in doubt.
 */
function rejectInFlightOnClose(client: Redis): void {
  client.on('close', () => {
    (client as unknown as { flushQueue(error: Error, options: { offlineQueue: boolean }): void }).flushQueue(new Error('Connection is closed.'), { offlineQueue: false });
  });
}

/** A human-readable address of what a connection points at, for error messages. */
export function describeConnection(connection: RedisConnection): string {
  if (typeof connection === 'string') return connection.replace(/\/\/[^@/]*@/, '//***@');
  if (isClusterConnection(connection)) return `cluster ${connection.cluster.map((n) => (typeof n === 'object' ? `${n.host ?? '127.0.0.1'}:${n.port ?? 6379}` : String(n))).join(',')}`;
  if (connection.sentinels) return `sentinel master '${connection.name ?? 'mymaster'}'`;
  return `${connection.host ?? '127.0.0.1'}:${connection.port ?? 6379}`;
}

const CONNECTION_FAILURE = /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|connect ETIMEDOUT|Command timed out|All sentinels are unreachable|Failed to refresh slots cache|None of startup nodes is available|Stream isn't writeable/;

/**
 * What Redis Cluster answers while a slot changes hands, and what ioredis makes of it once it gave
 * up following: a redirection (`MOVED`, `ASK`), a slot caught mid-migration (`TRYAGAIN`), a cluster
 * that marked a primary failed before its replica took over (`CLUSTERDOWN`), or more of these in a
 * row than `maxRedirections` ("Too many Cluster redirections. Last error: …"). One class, retriable:
 * the slot map settles within a node timeout and an election.
 */
const CLUSTER_IN_TRANSITION = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) |^Too many Cluster redirections|^Cluster isn't ready/;

/** Whether an error is Redis Cluster moving a slot (see {@link CLUSTER_IN_TRANSITION}). */
function isClusterInTransition(error: unknown): boolean {
  return error instanceof Error && CLUSTER_IN_TRANSITION.test(error.message);
}

/**
 * An ACL refusal: `NOPERM this user has no permissions to run the 'xadd' command` (or to access a
 * key or channel); inside a script Redis 7.0 says `The user executing the script can't run this
 * command or subcommand` (or `can't access at least one of the keys`), without naming it.
 */
const NO_PERMISSION = /^NOPERM |The user executing the script can't /;
const REFUSED_COMMAND = /'([^']+)' command/;

/**
 * Redis replies that refuse a value passed to a command (a stream ID out of range, a number that
 * does not parse): the caller asked for something impossible, and Brook did not fail.
 */
const REDIS_ARGUMENT_ERROR = /^ERR (invalid (start|end) ID|Invalid stream ID|value is not an integer|value is out of range|min or max is not a float|timeout is (negative|out of range|not a float))/;

/**
 * Turns what ioredis throws into Brook's errors: a Cluster slot changing hands becomes
 * `LeaderNotAvailableError`, connection failures `BrokerConnectionError`, refused arguments `InvalidArgumentError`, other Redis error replies a
 * `BrokerError` that names the operation.
 */
export function translateRedisError(error: unknown, operation: string, address: string, retries: number): BrokerError {
  if (error instanceof BrokerError) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  if (isClusterInTransition(err)) return new LeaderNotAvailableError(operation, err.message, { cause: err });
  if (err.name === 'MaxRetriesPerRequestError' || CONNECTION_FAILURE.test(err.message)) {
    return new BrokerConnectionError(
      `Could not ${operation}: Redis at ${address} is unreachable (${err.message}) after ${retries} reconnect attempt(s). ` +
        `Check that Redis runs and that the redis option points at it; raise connection.retries to wait longer.`,
      { cause: err },
    );
  }
  if (err.message.startsWith('OOM ')) return new RedisOutOfMemoryError(operation, { cause: err });
  if (NO_PERMISSION.test(err.message)) {
    return new RedisPermissionError(operation, REFUSED_COMMAND.exec(err.message)?.[1].toLowerCase(), err.message, { cause: err });
  }
  if (REDIS_ARGUMENT_ERROR.test(err.message)) {
    return new InvalidArgumentError(`Could not ${operation}: Redis refused an argument (${err.message}); check the IDs, offsets and numbers passed to this call.`, { cause: err });
  }
  return new BrokerError('INTERNAL', `Could not ${operation}: Redis replied ${err.message}`, { cause: err });
}

/** Refuses Redis servers older than 7.0, which lack `XADD <ms>-*`, `XAUTOCLAIM` and group lag. */
export async function assertServerSupported(client: RedisClient): Promise<string> {
  const info = await client.info('server');
  const version = /redis_version:([\d.]+)/.exec(info)?.[1] ?? '0';
  const major = Number(version.split('.')[0]);
  if (!(major >= 7)) {
    throw new UnsupportedRedisError(`Brook needs Redis 7.0 or newer; this server runs ${version}. Upgrade Redis.`);
  }
  return version;
}
