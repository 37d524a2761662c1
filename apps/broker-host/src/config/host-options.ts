import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { DEFAULT_MAX_REPLICA_LAG_BYTES, InvalidArgumentError, type RedisConnection } from '@brook/broker';
import { assertUnique, generateAdminToken, parseAdminTokens, type AdminToken } from '../auth/admin-tokens.js';

/** Nest log levels the host can print. */
export const HOST_LOG_LEVELS = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'] as const;
/** A Nest log level. */
export type HostLogLevel = (typeof HOST_LOG_LEVELS)[number];

/** Options of a broker host; `hostOptionsFromEnv` reads them from the environment. */
export interface HostOptions {
  /**
   * Where Redis is, as a Brook client takes it: a URL, `{ cluster: [seed nodes] }` or
   * `{ sentinels, name }`. @defaultValue `'redis://127.0.0.1:6379'`
   */
  redis?: RedisConnection;
  /** Where a single Redis is, as a URL; give this or `redis`, not both. */
  redisUrl?: string;
  /** Key prefix of the Brook deployment to operate. @defaultValue `'brook'` */
  prefix?: string;
  /** HTTP port; 0 picks a free one. @defaultValue `3000` */
  port?: number;
  /** Interface to listen on. @defaultValue `'0.0.0.0'` */
  host?: string;
  /** Bearer tokens as `name:role:token` entries (comma separated) or a list; none means one generated admin token. @defaultValue none */
  adminTokens?: string | AdminToken[];
  /**
   * Requests per minute over every endpoint but `/health`: per token name once the token is
   * verified (per actor), per client address before. @defaultValue `600`
   */
  rateLimitPerMinute?: number;
  /**
   * Which proxies in front of the host to believe about the client address (`X-Forwarded-For`): a
   * hop count (`1` behind one load balancer) or a list of their addresses and CIDR ranges
   * (`'10.0.0.0/8,192.168.1.7'`; also `loopback`, `linklocal`, `uniquelocal`). @defaultValue none: the
   * TCP peer is the client
   */
  trustProxy?: number | string | string[];
  /** Largest request body accepted. @defaultValue `2_097_152` (2 MiB: a 1 MiB message, JSON-escaped) */
  bodyLimitBytes?: number;
  /** Longest a client may take to send a request's headers, from its first byte; then 408 and the connection closes. @defaultValue `10_000` */
  headersTimeoutMs?: number;
  /** Longest a client may take to send a whole request, headers and body; then 408 and the connection closes. @defaultValue `30_000` */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open for the client's next request. @defaultValue `5_000` */
  keepAliveTimeoutMs?: number;
  /** Lease of the maintenance controller: a dead leader is replaced within this time. @defaultValue `10_000` */
  controllerLeaseMs?: number;
  /** How often the controller enforces retention. @defaultValue `60_000` */
  maintenanceIntervalMs?: number;
  /** How often the controller samples every group's lag into the lag history (kept 24 h). @defaultValue `10_000` */
  lagSampleIntervalMs?: number;
  /** How long a read of every topic and group serves `/metrics` and `/health` before it is read again. @defaultValue `5_000` */
  metricsCacheMs?: number;
  /** Most partitions (per topic and per group) one metrics read visits; the rest is left out and `brook_metrics_truncated` says so. @defaultValue `5_000` */
  metricsMaxPartitions?: number;
  /** Serve `/metrics` without a token (for scrapers that cannot send one). @defaultValue `false` */
  metricsPublic?: boolean;
  /** Most bytes a replica may be behind its primary and still count as in sync. @defaultValue `1_048_576` */
  maxReplicaLagBytes?: number;
  /** Least severe log level printed. @defaultValue `'log'` */
  logLevel?: HostLogLevel;
  /** Names this host in the controller lease and Redis `CLIENT LIST`. @defaultValue `'broker-host-<hostname>-<pid>'` */
  hostId?: string;
}

/** Options with every default applied. */
export interface ResolvedHostOptions {
  readonly redis: RedisConnection;
  readonly prefix: string;
  readonly port: number;
  readonly host: string;
  readonly adminTokens: readonly AdminToken[];
  /** The token generated because none was configured, to print once; null otherwise. */
  readonly generatedToken: AdminToken | null;
  readonly rateLimitPerMinute: number;
  /** Express's `trust proxy` setting: false, a hop count, or addresses and ranges. */
  readonly trustProxy: false | number | readonly string[];
  readonly bodyLimitBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly controllerLeaseMs: number;
  readonly maintenanceIntervalMs: number;
  readonly lagSampleIntervalMs: number;
  readonly metricsCacheMs: number;
  readonly metricsMaxPartitions: number;
  readonly metricsPublic: boolean;
  readonly maxReplicaLagBytes: number;
  readonly logLevel: HostLogLevel;
  readonly hostId: string;
}

/** Defaults of {@link HostOptions} (tokens and host id have computed defaults). */
export const DEFAULT_HOST_OPTIONS = {
  redis: 'redis://127.0.0.1:6379',
  prefix: 'brook',
  port: 3_000,
  host: '0.0.0.0',
  rateLimitPerMinute: 600,
  bodyLimitBytes: 2_097_152,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  controllerLeaseMs: 10_000,
  maintenanceIntervalMs: 60_000,
  lagSampleIntervalMs: 10_000,
  metricsCacheMs: 5_000,
  metricsMaxPartitions: 5_000,
  metricsPublic: false,
  maxReplicaLagBytes: DEFAULT_MAX_REPLICA_LAG_BYTES,
  logLevel: 'log',
} satisfies Partial<ResolvedHostOptions>;

const HOST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Validates options, applies defaults and generates an admin token when none is configured. */
export function resolveHostOptions(options: HostOptions = {}): ResolvedHostOptions {
  const { redisUrl, ...given } = definedOnly(options);
  if (redisUrl !== undefined && given.redis !== undefined) {
    throw new InvalidArgumentError('Give redisUrl or redis, not both: redis takes a URL too, or { cluster: [...] } or { sentinels, name }.');
  }
  const merged = { ...DEFAULT_HOST_OPTIONS, ...given, ...(redisUrl !== undefined && { redis: redisUrl }) };
  assertInteger('port', merged.port, 0, 65_535);
  assertInteger('rateLimitPerMinute', merged.rateLimitPerMinute, 1, 1_000_000);
  assertInteger('bodyLimitBytes', merged.bodyLimitBytes, 1_024, 64 * 1_048_576);
  assertInteger('headersTimeoutMs', merged.headersTimeoutMs, 100, 600_000);
  assertInteger('requestTimeoutMs', merged.requestTimeoutMs, 100, 3_600_000);
  assertInteger('keepAliveTimeoutMs', merged.keepAliveTimeoutMs, 100, 600_000);
  if (merged.headersTimeoutMs > merged.requestTimeoutMs) {
    // Node refuses a server whose headers may take longer than the whole request.
    throw new InvalidArgumentError(
      `headersTimeoutMs (${merged.headersTimeoutMs}) must not exceed requestTimeoutMs (${merged.requestTimeoutMs}); the headers are part of the request. Lower BROOK_HEADERS_TIMEOUT_MS or raise BROOK_REQUEST_TIMEOUT_MS.`,
    );
  }
  assertInteger('controllerLeaseMs', merged.controllerLeaseMs, 100, 3_600_000);
  assertInteger('maintenanceIntervalMs', merged.maintenanceIntervalMs, 10, 86_400_000);
  assertInteger('lagSampleIntervalMs', merged.lagSampleIntervalMs, 10, 86_400_000);
  const trustProxy = resolveTrustProxy(merged.trustProxy);
  assertInteger('metricsCacheMs', merged.metricsCacheMs, 0, 3_600_000);
  assertInteger('metricsMaxPartitions', merged.metricsMaxPartitions, 1, 1_000_000);
  assertInteger('maxReplicaLagBytes', merged.maxReplicaLagBytes, 0, Number.MAX_SAFE_INTEGER);
  if (!HOST_LOG_LEVELS.includes(merged.logLevel)) {
    throw new InvalidArgumentError(`logLevel must be one of ${HOST_LOG_LEVELS.join(', ')}; got ${JSON.stringify(merged.logLevel)}.`);
  }
  const hostId = merged.hostId ?? `broker-host-${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60)}-${process.pid}`;
  if (!HOST_ID.test(hostId)) throw new InvalidArgumentError(`hostId must be 1 to 100 of A-Z, a-z, 0-9, '.', '_', '-'; got ${JSON.stringify(hostId)}.`);

  const configured = typeof merged.adminTokens === 'string' ? parseAdminTokens(merged.adminTokens) : [...(merged.adminTokens ?? [])];
  assertUnique(configured);
  const generatedToken = configured.length === 0 ? generateAdminToken() : null;
  return Object.freeze({
    ...merged,
    trustProxy,
    hostId,
    adminTokens: Object.freeze(generatedToken === null ? configured : [generatedToken]),
    generatedToken,
  });
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Checks `trustProxy` up front: Express would otherwise fail on the first request, or trust too much. */
function resolveTrustProxy(value: HostOptions['trustProxy']): false | number | readonly string[] {
  if (value === undefined) return false;
  if (typeof value === 'number') {
    assertInteger('trustProxy', value, 0, 100);
    return value === 0 ? false : value;
  }
  const entries = (typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [value]).map((entry) => (typeof entry === 'string' ? entry.trim() : entry));
  const fix = "give a hop count (e.g. 1) or comma-separated proxy addresses and CIDR ranges (e.g. '10.0.0.0/8,192.168.1.7'), or loopback, linklocal, uniquelocal";
  if (entries.length === 0 || (entries.length === 1 && entries[0] === '')) throw new InvalidArgumentError(`trustProxy is empty: ${fix}.`);
  for (const entry of entries) {
    if (typeof entry !== 'string' || !isProxyAddress(entry)) throw new InvalidArgumentError(`trustProxy entry ${JSON.stringify(entry)} is not an address, CIDR range or known name: ${fix}.`);
  }
  return Object.freeze(entries as string[]);
}

function isProxyAddress(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function assertInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(value)}.`);
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
