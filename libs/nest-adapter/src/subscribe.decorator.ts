import type { DeadLetterOptions, RetryOptions } from '@brook/broker';
import { SUBSCRIBE_METADATA } from './brook.tokens.js';

/** Options of one `@Subscribe` handler. */
export interface SubscribeOptions {
  /** Retry policy of this handler, over the module's `retry` defaults. */
  retry?: RetryOptions;
  /** Dead-lettering of this handler, over the module's defaults. */
  deadLetter?: DeadLetterOptions;
  /** Partitions of the group processed at the same time (`partitionsConsumedConcurrently`); handlers of one group must agree. @defaultValue `1` */
  concurrency?: number;
  /** Where a group new to the topic starts: its oldest message, or its end. @defaultValue `false` */
  fromBeginning?: boolean;
}

/** Every option `@Subscribe` accepts, to refuse typos at bootstrap. */
export const SUBSCRIBE_OPTION_KEYS: ReadonlyArray<keyof SubscribeOptions> = ['retry', 'deadLetter', 'concurrency', 'fromBeginning'];

/** What `@Subscribe` records on a method. */
export interface SubscriptionMetadata {
  topic: string;
  group: string;
  options: SubscribeOptions;
}

/**
 * Makes the method consume `topic` as a member of consumer group `group`. All handlers of one group
 * share one consumer; messages of a partition reach the handler one at a time, in order. The method
 * receives the decoded value (`@Payload()`) and a {@link MessageContext} (`@Ctx()`); pipes, guards,
 * interceptors and exception filters apply as to `@EventPattern` handlers.
 *
 * ```ts
 * @Subscribe('orders.created', 'billing', { retry: { attempts: 5, mode: 'non-blocking' } })
 * async charge(@Payload() order: OrderCreatedDto, @Ctx() ctx: MessageContext) {}
 * ```
 */
export function Subscribe(topic: string, group: string, options: SubscribeOptions = {}): MethodDecorator {
  return (_target, _key, descriptor) => {
    const existing = (Reflect.getMetadata(SUBSCRIBE_METADATA, descriptor.value as object) ?? []) as SubscriptionMetadata[];
    Reflect.defineMetadata(SUBSCRIBE_METADATA, [...existing, { topic, group, options }], descriptor.value as object);
    return descriptor;
  };
}
