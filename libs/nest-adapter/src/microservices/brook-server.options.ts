import type { BrookLoggingOptions } from '../brook.logging.js';
import {
  InvalidArgumentError,
  assertValidName,
  type Brook,
  type BrookLogger,
  type BrookOptions,
  type ConsumerOptions,
  type CreateTopicRequest,
  type DeadLetterOptions,
  type Ordering,
  type ProducerOptions,
  type RetryOptions,
} from '@brook/broker';
import type { SubscribeOptions } from '../subscribe.decorator.js';

/**
 * Brook options of one `@EventPattern(topic, { … })` or `@MessagePattern(topic, { … })` handler:
 * those of `@Subscribe`, and the group it runs in. Share groups are `@Subscribe`'s alone.
 */
export interface BrookPatternOptions extends Omit<SubscribeOptions, 'share' | 'acquisitionLockMs' | 'deliveryLimit'> {
  /** The consumer group of this handler. @defaultValue the server's `group` */
  group?: string;
}

/** Options of `new BrookServer()`. */
export interface BrookServerOptions extends Omit<BrookOptions, 'redis' | 'logger'> {
  /** Where Redis is (see `BrookOptions.redis`); give this or `brook`. */
  redis?: BrookOptions['redis'];
  /** A client to use instead of opening one (`app.get(Brook)` in an app with `BrokerModule`); the server does not close it. */
  brook?: Brook;
  /** The consumer group of every handler without a `group` of its own (the Kafka transport's `consumer.groupId`). */
  group: string;
  /** Topics created (idempotently) before the handlers subscribe. */
  topics?: CreateTopicRequest[];
  /** Retry defaults of every handler, under each handler's `retry`. */
  retry?: RetryOptions;
  /** Dead-letter defaults of every handler, under each handler's `deadLetter`. */
  deadLetter?: DeadLetterOptions;
  /** Ordering of every handler without one of its own (see `SubscribeOptions.ordering`). @defaultValue `'partition'` */
  ordering?: Ordering;
  /** Handlers in flight per group, for handlers without one of their own (see `SubscribeOptions.concurrency`). */
  concurrency?: number;
  /** Where a group new to a topic starts, for handlers without a setting of their own. @defaultValue `false` */
  fromBeginning?: boolean;
  /** Settings of every group's consumer (session timeout, batch size…). */
  consumer?: Omit<ConsumerOptions, 'group'>;
  /** Options of the producer that sends `@MessagePattern` replies. */
  producer?: ProducerOptions;
  /** Where Brook logs; Nest's `Logger` with the context 'Brook' by default. */
  logger?: BrookLogger;
  /** How failed attempts and dead letters are logged, as `BrokerModule`'s `logging` option. */
  logging?: BrookLoggingOptions;
}

/** Validated, frozen options; the input is not modified. */
export function resolveBrookServerOptions(options: BrookServerOptions): Readonly<BrookServerOptions> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError("new BrookServer() needs options, e.g. new BrookServer({ redis: process.env.REDIS_URL, group: 'billing' }).");
  }
  assertConnection('BrookServer', options);
  try {
    assertValidName('group', options.group);
  } catch (error) {
    throw new InvalidArgumentError(`new BrookServer({ group }): ${(error as Error).message}`, { cause: error });
  }
  return Object.freeze({ ...options });
}

/** Refuses options that name no Redis, or two. */
export function assertConnection(owner: string, { redis, brook }: { redis?: unknown; brook?: unknown }): void {
  const hasRedis = redis !== undefined && redis !== null && redis !== '';
  if (hasRedis === (brook !== undefined)) {
    throw new InvalidArgumentError(
      hasRedis
        ? `new ${owner}() takes redis or brook, not both: pass brook to share a client, or redis to open one.`
        : `new ${owner}() needs the redis option (a redis:// URL, ioredis options, { sentinels, name } or { cluster: [...] }) or a Brook client as brook. ` +
            'With redis: process.env.REDIS_URL, set REDIS_URL (e.g. redis://127.0.0.1:6379).',
    );
  }
}
