import type { DeadLetterOptions, Ordering, RetryOptions } from '@brook/broker';
import type { BatchContext } from './batch-context.js';
import { SUBSCRIBE_METADATA } from './brook.tokens.js';
import type { ShareMessageContext } from './message-context.js';

/** Options of one `@Subscribe` handler. */
export interface SubscribeOptions {
  /** Retry policy of this handler, over the module's `retry` defaults. */
  retry?: RetryOptions;
  /** Dead-lettering of this handler, over the module's defaults. */
  deadLetter?: DeadLetterOptions;
  /**
   * Which messages of a partition run one after another: `'partition'` (all, in offset order —
   * Kafka's model), `'key'` (those with the same key, in offset order; different keys run side by
   * side) or `'none'`. Handlers of one group must agree. Not for share groups, which have no order.
   * @defaultValue `'partition'`
   */
  ordering?: Ordering;
  /**
   * Handlers of the group in flight at once, across its partitions (with `ordering: 'partition'`:
   * how many partitions run at once; in a share group: per handler, each having a member of its
   * own). Handlers of one group must agree.
   * @defaultValue `1` with `ordering: 'partition'`, otherwise 16
   */
  concurrency?: number;
  /** Where a group new to the topic starts: its oldest message, or its end. @defaultValue `false` */
  fromBeginning?: boolean;
  /**
   * Consume as a share group: any member takes any message (no partition ownership, no order), each
   * message reaches one member, and an unsettled one returns after its lock expires. The handler's
   * `@Ctx()` is a {@link ShareMessageContext}. Handlers of one group must agree.
   * @defaultValue `false`
   */
  share?: boolean;
  /** Share groups: how long a member holds a message before another may take it. @defaultValue the library's (30 000 ms) */
  acquisitionLockMs?: number;
  /** Share groups: deliveries of one message before it is dead-lettered. @defaultValue the library's (5) */
  deliveryLimit?: number;
}

/**
 * Options of one `@SubscribeBatch` handler. A batch is consecutive messages of one partition, so
 * ordering is always `'partition'` and share groups cannot take batches.
 */
export interface SubscribeBatchOptions {
  /** Retry policy of this handler, over the module's `retry` defaults; decided per message. */
  retry?: RetryOptions;
  /** Dead-lettering of this handler, over the module's defaults. */
  deadLetter?: DeadLetterOptions;
  /** Only `'partition'`: a batch holds a partition's messages in offset order. @defaultValue `'partition'` */
  ordering?: 'partition';
  /** Partitions whose batches are handled at once. Handlers of one group must agree. @defaultValue `1` */
  concurrency?: number;
  /** Where a group new to the topic starts: its oldest message, or its end. @defaultValue `false` */
  fromBeginning?: boolean;
}

/** Every option `@Subscribe` and `@SubscribeBatch` know, to refuse typos at bootstrap. */
export const SUBSCRIBE_OPTION_KEYS: ReadonlyArray<keyof SubscribeOptions> = [
  'retry',
  'deadLetter',
  'ordering',
  'concurrency',
  'fromBeginning',
  'share',
  'acquisitionLockMs',
  'deliveryLimit',
];

/** A method decorator that accepts only methods assignable to `M`. */
export type TypedMethodDecorator<M> = <F extends M>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<F>) => TypedPropertyDescriptor<F> | void;

/** Which decorator made a subscription: one message per call, or a batch per call. */
export type SubscriptionKind = 'message' | 'batch';

/** What `@Subscribe` and `@SubscribeBatch` record on a method. */
export interface SubscriptionMetadata {
  kind: SubscriptionKind;
  topic: string;
  group: string;
  options: SubscribeOptions;
}

/**
 * Makes the method consume `topic` as a member of consumer group `group`. All handlers of one group
 * share one consumer. The method receives the decoded value (`@Payload()`) and a
 * {@link MessageContext} (`@Ctx()`); pipes, guards, interceptors and exception filters apply as to
 * `@EventPattern` handlers.
 *
 * By default messages of a partition reach the handler one at a time, in order. `ordering: 'key'`
 * with a `concurrency` keeps only messages with the same key in order and runs the rest side by
 * side; `share: true` makes a share group (any member takes any message, no order).
 *
 * ```ts
 * @Subscribe('orders.created', 'billing', { ordering: 'key', concurrency: 50, retry: { attempts: 5 } })
 * async charge(@Payload() order: OrderCreatedDto, @Ctx() ctx: MessageContext) {}
 *
 * @Subscribe('orders.shipped', 'mailers', { share: true, concurrency: 50 })
 * async mail(@Payload() shipment: ShipmentDto, @Ctx() ctx: ShareMessageContext) {}
 * ```
 */
export function Subscribe(topic: string, group: string, options?: SubscribeOptions): MethodDecorator;
/**
 * `@Subscribe<T>()` also checks the method's signature: its first parameter takes a `T` (the
 * payload) and its second, if any, a `MessageContext<T>` or `ShareMessageContext<T>`.
 */
export function Subscribe<T>(topic: string, group: string, options?: SubscribeOptions): TypedMethodDecorator<(payload: T, context: ShareMessageContext<T>) => unknown>;
export function Subscribe(topic: string, group: string, options: SubscribeOptions = {}): MethodDecorator {
  return record('message', topic, group, options);
}

/**
 * Makes the method consume `topic` in batches as a member of consumer group `group`: each call gets
 * consecutive messages of one partition, for bulk writes. The method receives the array of decoded
 * values (`@Payload()`; `@Payload('field')` gives that field of each) and a {@link BatchContext}
 * (`@Ctx()`: topic, partition, messages with offsets, keys and headers, `resolveOffset`,
 * `heartbeat`, `signal`). Pipes, guards, interceptors and exception filters apply as for
 * `@Subscribe`, once per batch.
 *
 * If the method throws, the messages whose offsets it resolved are acknowledged and the others are
 * retried (and dead-lettered) one by one under the retry policy; returning acknowledges the batch.
 *
 * A decorator of its own, rather than an option of `@Subscribe`, because the method's signature
 * differs (an array and a batch context); it mirrors KafkaJS' `eachMessage`/`eachBatch` split, and
 * `@nestjs/microservices` has no batch handler to follow. Every handler of a group is either
 * `@Subscribe` or `@SubscribeBatch`.
 *
 * ```ts
 * @SubscribeBatch('orders.shipped', 'order-store', { concurrency: 6 })
 * async store(@Payload() shipments: Shipment[], @Ctx() ctx: BatchContext) {}
 * ```
 */
export function SubscribeBatch(topic: string, group: string, options?: SubscribeBatchOptions): MethodDecorator;
/** `@SubscribeBatch<T>()` also checks that the method takes a `T[]` and, if any, a `BatchContext<T>`. */
export function SubscribeBatch<T>(topic: string, group: string, options?: SubscribeBatchOptions): TypedMethodDecorator<(payloads: T[], context: BatchContext<T>) => unknown>;
export function SubscribeBatch(topic: string, group: string, options: SubscribeBatchOptions = {}): MethodDecorator {
  return record('batch', topic, group, options);
}

function record(kind: SubscriptionKind, topic: string, group: string, options: SubscribeOptions | SubscribeBatchOptions): MethodDecorator {
  return (_target, _key, descriptor) => {
    const existing = (Reflect.getMetadata(SUBSCRIBE_METADATA, descriptor.value as object) ?? []) as SubscriptionMetadata[];
    Reflect.defineMetadata(SUBSCRIBE_METADATA, [...existing, { kind, topic, group, options }], descriptor.value as object);
    return descriptor;
  };
}

/** The decorator behind a kind, for messages that quote the user's code. */
export function decoratorOf(kind: SubscriptionKind): string {
  return kind === 'batch' ? '@SubscribeBatch' : '@Subscribe';
}
