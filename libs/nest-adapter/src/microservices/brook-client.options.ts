import { InvalidArgumentError, assertValidName, type Brook, type BrookLogger, type BrookOptions, type ProducerOptions } from '@brook/broker';
import { assertConnection } from './brook-server.options.js';

/** Options of `new BrookClient()`. */
export interface BrookClientOptions extends Omit<BrookOptions, 'redis' | 'logger'> {
  /** Where Redis is (see `BrookOptions.redis`); give this or `brook`. */
  redis?: BrookOptions['redis'];
  /** A client to use instead of opening one (`app.get(Brook)` in an app with `BrokerModule`); `close()` does not close it. */
  brook?: Brook;
  /** How long `send()` waits for the reply before failing with `ReplyTimeoutError`. @defaultValue `30_000` */
  requestTimeoutMs?: number;
  /** Options of the producer behind `emit()` and `send()`. */
  producer?: ProducerOptions;
  /** How often the reply topic is read while requests wait and nothing arrived. @defaultValue `10` */
  replyPollIntervalMs?: number;
  /** Where Brook logs; Nest's `Logger` with the context 'Brook' by default. */
  logger?: BrookLogger;
}

export const DEFAULT_BROOK_CLIENT_OPTIONS = { requestTimeoutMs: 30_000, replyPollIntervalMs: 10 } satisfies Partial<BrookClientOptions>;

/** Validated, frozen options with defaults; the input is not modified. */
export function resolveBrookClientOptions(options: BrookClientOptions): Readonly<BrookClientOptions & typeof DEFAULT_BROOK_CLIENT_OPTIONS> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('new BrookClient() needs options, e.g. new BrookClient({ redis: process.env.REDIS_URL }).');
  }
  assertConnection('BrookClient', options);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_BROOK_CLIENT_OPTIONS.requestTimeoutMs;
  assertMs('requestTimeoutMs', requestTimeoutMs, 3_600_000);
  const replyPollIntervalMs = options.replyPollIntervalMs ?? DEFAULT_BROOK_CLIENT_OPTIONS.replyPollIntervalMs;
  assertMs('replyPollIntervalMs', replyPollIntervalMs, 60_000);
  if (options.clientId !== undefined) assertValidName('topic', `${options.clientId}.replies`);
  return Object.freeze({ ...options, requestTimeoutMs, replyPollIntervalMs });
}

function assertMs(name: string, value: unknown, max: number): void {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw new InvalidArgumentError(`new BrookClient({ ${name} }) must be an integer from 1 to ${max} (ms); got ${JSON.stringify(value)}.`);
  }
}
