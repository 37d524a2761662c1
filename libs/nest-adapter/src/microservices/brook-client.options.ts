import { InvalidArgumentError, assertValidName, type Brook, type BrookLogger, type BrookOptions, type ConsumerOptions, type ProducerOptions } from '@brook/broker';
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
  /** Settings of the consumer of this client's reply topic. */
  consumer?: Omit<ConsumerOptions, 'group'>;
  /** Where Brook logs; Nest's `Logger` with the context 'Brook' by default. */
  logger?: BrookLogger;
}

export const DEFAULT_BROOK_CLIENT_OPTIONS = { requestTimeoutMs: 30_000 } satisfies Partial<BrookClientOptions>;

/** Validated, frozen options with defaults; the input is not modified. */
export function resolveBrookClientOptions(options: BrookClientOptions): Readonly<BrookClientOptions & typeof DEFAULT_BROOK_CLIENT_OPTIONS> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('new BrookClient() needs options, e.g. new BrookClient({ redis: process.env.REDIS_URL }).');
  }
  assertConnection('BrookClient', options);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_BROOK_CLIENT_OPTIONS.requestTimeoutMs;
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1 || requestTimeoutMs > 3_600_000) {
    throw new InvalidArgumentError(`new BrookClient({ requestTimeoutMs }) must be an integer from 1 to 3600000 (ms); got ${JSON.stringify(options.requestTimeoutMs)}.`);
  }
  if (options.clientId !== undefined) assertValidName('topic', `${options.clientId}.replies`);
  return Object.freeze({ ...options, requestTimeoutMs });
}
