import type { Headers, Producer as BrookProducer } from '@brook/broker';
import { InvalidArgumentError } from '@brook/broker';
import { PRODUCER_HANDLE, PRODUCER_METADATA } from './brook.tokens.js';

/** Options of `@Producer`. */
export interface PublishOptions<R = any> {
  /** The message key (decides the partition) from the published value and the method's arguments. */
  key?: (value: R, ...args: any[]) => string | Buffer | null | undefined;
  /** Headers from the published value and the method's arguments. */
  headers?: (value: R, ...args: any[]) => Headers;
  /** The method resolves an array: publish one message per element. @defaultValue `false` */
  array?: boolean;
}

/** What `@Producer` records on a method. */
export interface ProducerMetadata {
  topic: string;
  options: PublishOptions;
}

/** Publishes the values of `@Producer` methods; attached to instances by the module at bootstrap. */
export interface ProducerHandle {
  publish(topic: string, options: PublishOptions, result: unknown, args: unknown[], origin: string): Promise<void>;
}

/**
 * Publishes what the method resolves to on `topic`, then returns it. If publishing fails, the call
 * rejects with the broker's error — nothing is dropped silently.
 *
 * ```ts
 * @Producer('payments.completed', { key: (result) => result.orderId })
 * async complete(orderId: string) { return { orderId, paidAt: Date.now() }; }
 * ```
 */
export function Producer(topic: string, options: PublishOptions = {}): MethodDecorator {
  return (target, key, descriptor) => {
    const original = descriptor.value as unknown as (...args: unknown[]) => unknown;
    const origin = `${target.constructor.name}.${String(key)}`;
    const published = async function (this: Record<symbol, ProducerHandle | undefined>, ...args: unknown[]) {
      const result = await original.apply(this, args);
      const handle = this?.[PRODUCER_HANDLE];
      if (handle === undefined) {
        throw new InvalidArgumentError(
          `${origin} has @Producer('${topic}') but no Brook producer is attached to this instance: import BrokerModule.forRoot() ` +
            `and call the method on the instance Nest created, once the application has initialised.`,
        );
      }
      await handle.publish(topic, options, result, args, origin);
      return result;
    };
    // Keep what decorators applied before this one recorded on the method.
    for (const metadataKey of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(metadataKey, Reflect.getMetadata(metadataKey, original), published);
    }
    Reflect.defineMetadata(PRODUCER_METADATA, { topic, options } satisfies ProducerMetadata, published);
    Object.defineProperty(published, 'name', { value: original.name });
    descriptor.value = published as never;
    return descriptor;
  };
}

/** The broker's producer, as injected with `@InjectProducer()`; same name as the decorator on purpose. */
export type Producer = BrookProducer;
