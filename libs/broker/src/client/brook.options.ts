import { InvalidArgumentError } from '../errors/errors.js';
import type { ConnectionSettings, RedisConnection } from '../redis/connection.js';
import { createConsoleLogger, type BrookLogger } from './logger.js';

/** Options of a {@link Brook} client. */
export interface BrookOptions {
  /** Where Redis is: a URL, ioredis options, `{ sentinels, name }` for Sentinel, or `{ cluster: [...] }`. */
  redis: RedisConnection;
  /** Names this process in group membership and Redis `CLIENT LIST`. @defaultValue `'brook'` */
  clientId?: string;
  /** Prefix of every Redis key Brook writes; several Brook deployments can share one Redis. @defaultValue `'brook'` */
  prefix?: string;
  /** Reconnect behaviour and request timeouts. @defaultValue `{ retries: 5, initialBackoffMs: 100, maxBackoffMs: 2_000, connectTimeoutMs: 5_000, commandTimeoutMs: 10_000 }` */
  connection?: Partial<ConnectionSettings>;
  /** How long producers trust cached topic metadata before reading it again. @defaultValue `30_000` */
  metadataMaxAgeMs?: number;
  /** Receives background events. @defaultValue warnings and errors to stderr */
  logger?: BrookLogger;
  /**
   * OpenTelemetry spans for produced and consumed messages, when `@opentelemetry/api` is installed
   * and an SDK is registered; `false` never loads the API. @defaultValue `true`
   */
  tracing?: boolean;
}

/** Options with every default applied. */
export interface ResolvedBrookOptions {
  readonly redis: RedisConnection;
  readonly clientId: string;
  readonly prefix: string;
  readonly connection: Readonly<ConnectionSettings>;
  readonly metadataMaxAgeMs: number;
  readonly logger: BrookLogger;
  readonly tracing: boolean;
}

export const DEFAULT_BROOK_OPTIONS = {
  clientId: 'brook',
  prefix: 'brook',
  connection: { retries: 5, initialBackoffMs: 100, maxBackoffMs: 2_000, connectTimeoutMs: 5_000, commandTimeoutMs: 10_000 },
  metadataMaxAgeMs: 30_000,
  tracing: true,
} satisfies Omit<ResolvedBrookOptions, 'redis' | 'logger'>;

const CLIENT_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Checks a non-negative integer option, naming it in the error. */
export function assertInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(value)}.`);
  }
}

/** Validates options, applies defaults and freezes the result; the input is not modified. */
export function resolveBrookOptions(options: BrookOptions): ResolvedBrookOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError("new Brook() needs options, e.g. new Brook({ redis: 'redis://127.0.0.1:6379', clientId: 'orders-svc' }).");
  }
  if (options.redis === undefined || options.redis === null) {
    throw new InvalidArgumentError("The redis option is required, e.g. new Brook({ redis: 'redis://127.0.0.1:6379' }).");
  }
  const clientId = options.clientId ?? DEFAULT_BROOK_OPTIONS.clientId;
  if (!CLIENT_ID.test(clientId)) {
    throw new InvalidArgumentError(`clientId must be 1 to 100 of A-Z, a-z, 0-9, '.', '_', '-'; got ${JSON.stringify(clientId)}.`);
  }
  const connection = { ...DEFAULT_BROOK_OPTIONS.connection, ...options.connection };
  assertInteger('connection.retries', connection.retries, 0, 1_000);
  assertInteger('connection.initialBackoffMs', connection.initialBackoffMs, 1, 600_000);
  assertInteger('connection.maxBackoffMs', connection.maxBackoffMs, connection.initialBackoffMs, 600_000);
  assertInteger('connection.connectTimeoutMs', connection.connectTimeoutMs, 1, 600_000);
  assertInteger('connection.commandTimeoutMs', connection.commandTimeoutMs, 10, 600_000);
  const metadataMaxAgeMs = options.metadataMaxAgeMs ?? DEFAULT_BROOK_OPTIONS.metadataMaxAgeMs;
  assertInteger('metadataMaxAgeMs', metadataMaxAgeMs, 0);
  const tracing = options.tracing ?? DEFAULT_BROOK_OPTIONS.tracing;
  if (typeof tracing !== 'boolean') throw new InvalidArgumentError(`tracing must be true or false; got ${JSON.stringify(tracing)}.`);
  return Object.freeze({
    redis: options.redis,
    clientId,
    prefix: options.prefix ?? DEFAULT_BROOK_OPTIONS.prefix,
    connection: Object.freeze(connection),
    metadataMaxAgeMs,
    logger: options.logger ?? createConsoleLogger(),
    tracing,
  });
}
