import { InvalidArgumentError } from '@brook/broker';
import type { HostLogLevel, HostOptions } from './host-options.js';
import { redisConnectionFromEnv } from './redis-env.js';

/**
 * The environment variables a host reads, and the option each one sets. Where Redis is comes from
 * `REDIS_URL`, `REDIS_CLUSTER_NODES` or `REDIS_SENTINELS` (see `redis-env.ts`) and sets `redis`.
 */
export const HOST_ENVIRONMENT = {
  BROOK_PREFIX: 'prefix',
  PORT: 'port',
  HOST: 'host',
  BROOK_ADMIN_TOKENS: 'adminTokens',
  BROOK_RATE_LIMIT_PER_MINUTE: 'rateLimitPerMinute',
  BROOK_TRUST_PROXY: 'trustProxy',
  BROOK_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  BROOK_HEADERS_TIMEOUT_MS: 'headersTimeoutMs',
  BROOK_REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
  BROOK_KEEP_ALIVE_TIMEOUT_MS: 'keepAliveTimeoutMs',
  BROOK_CONTROLLER_LEASE_MS: 'controllerLeaseMs',
  BROOK_MAINTENANCE_INTERVAL_MS: 'maintenanceIntervalMs',
  BROOK_LAG_SAMPLE_INTERVAL_MS: 'lagSampleIntervalMs',
  BROOK_METRICS_CACHE_MS: 'metricsCacheMs',
  BROOK_METRICS_MAX_PARTITIONS: 'metricsMaxPartitions',
  BROOK_METRICS_PUBLIC: 'metricsPublic',
  BROOK_MAX_REPLICA_LAG_BYTES: 'maxReplicaLagBytes',
  BROOK_LOG_LEVEL: 'logLevel',
  BROOK_HOST_ID: 'hostId',
} as const satisfies Record<string, keyof HostOptions>;

const INTEGER_OPTIONS = new Set<keyof HostOptions>([
  'port',
  'rateLimitPerMinute',
  'bodyLimitBytes',
  'headersTimeoutMs',
  'requestTimeoutMs',
  'keepAliveTimeoutMs',
  'controllerLeaseMs',
  'maintenanceIntervalMs',
  'lagSampleIntervalMs',
  'metricsCacheMs',
  'metricsMaxPartitions',
  'maxReplicaLagBytes',
]);

/** Reads host options from environment variables; unset or empty ones keep their defaults. */
export function hostOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HostOptions {
  const options: Record<string, unknown> = {};
  const redis = redisConnectionFromEnv(env);
  if (redis !== undefined) options.redis = redis;
  for (const [variable, option] of Object.entries(HOST_ENVIRONMENT) as Array<[string, keyof HostOptions]>) {
    const raw = env[variable]?.trim();
    if (raw === undefined || raw === '') continue;
    if (INTEGER_OPTIONS.has(option)) {
      if (!/^\d{1,10}$/.test(raw)) throw new InvalidArgumentError(`${variable} must be a non-negative integer; got ${JSON.stringify(raw)}.`);
      options[option] = Number(raw);
    } else if (option === 'metricsPublic') {
      if (raw !== 'true' && raw !== 'false') throw new InvalidArgumentError(`${variable} must be 'true' or 'false'; got ${JSON.stringify(raw)}.`);
      options[option] = raw === 'true';
    } else if (option === 'trustProxy') {
      // A hop count, or addresses and ranges (checked by resolveHostOptions).
      options[option] = /^\d{1,3}$/.test(raw) ? Number(raw) : raw;
    } else if (option === 'logLevel') {
      options[option] = raw as HostLogLevel;
    } else {
      options[option] = raw;
    }
  }
  return options as HostOptions;
}
