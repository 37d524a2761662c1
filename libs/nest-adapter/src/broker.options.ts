import type { BrookLoggingOptions } from './brook.logging.js';
import type { BrookLogger, BrookOptions, ConsumerOptions, CreateTopicRequest, DeadLetterOptions, ProducerOptions, RetryOptions } from '@brook/broker';

/** Options of `BrokerModule.forRoot()`. */
export interface BrokerModuleOptions extends Omit<BrookOptions, 'logger' | 'redis'> {
  /**
   * Where Redis is (see `BrookOptions.redis`), usually `process.env.REDIS_URL`. `undefined` is
   * accepted so that line type-checks; the application then fails to start with an error that says
   * what to set.
   */
  redis: BrookOptions['redis'] | undefined;
  /** Topics created (idempotently) when the application starts; a different existing configuration fails the start. */
  topics?: CreateTopicRequest[];
  /**
   * Retry defaults of every `@Subscribe` and `@SubscribeBatch` handler. Share groups take the
   * backoff, handler timeout and `isRetriable` from here; their deliveries are limited by
   * `deliveryLimit` instead of `attempts`.
   */
  retry?: RetryOptions;
  /** Dead-letter defaults of every handler of an exclusive group (share groups always dead-letter at `deliveryLimit`). */
  deadLetter?: DeadLetterOptions;
  /**
   * Settings of every group's consumer (session timeout, heartbeat, batch size…). Share groups
   * take `codec`, `maxBatchSize` and `maxBytesPerPartition` from here.
   */
  consumer?: Omit<ConsumerOptions, 'group'>;
  /** Options of the injected producer (acks, codec, limits…). */
  producer?: ProducerOptions;
  /** Where Brook logs; Nest's `Logger` with the context 'Brook' by default. */
  logger?: BrookLogger;
  /**
   * What is logged about handler failures: one line per failed attempt and per dead letter, stacks
   * apart. Nest's `ExceptionsHandler` does not log them again.
   * @defaultValue `{ failedAttempt: 'warn', deadLetter: 'warn', stack: 'debug' }`
   */
  logging?: BrookLoggingOptions;
}
