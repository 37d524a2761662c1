import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { InvalidArgumentError, assertValidName } from '@brook/broker';
import { PRODUCER_METADATA, SUBSCRIBE_METADATA } from './brook.tokens.js';
import { SUBSCRIBE_OPTION_KEYS, type SubscriptionMetadata } from './subscribe.decorator.js';

/** A `@Subscribe` method found on a provider or controller. */
export interface DiscoveredHandler {
  instance: Record<string, unknown>;
  methodName: string;
  /** `Class.method`, for errors, logs and dead letters. */
  origin: string;
  subscription: SubscriptionMetadata;
}

/** What discovery found in the application. */
export interface Discovery {
  handlers: DiscoveredHandler[];
  /** Instances with `@Producer` methods. */
  producerHosts: object[];
}

/**
 * Finds `@Subscribe` and `@Producer` methods on every provider and controller, and refuses a wrong
 * setup at bootstrap with an error naming the class and method: invalid names or options, two
 * handlers for one (topic, group), handlers on request- or transient-scoped classes.
 */
@Injectable()
export class SubscriptionExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  explore(): Discovery {
    const handlers: DiscoveredHandler[] = [];
    const producerHosts: object[] = [];
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const metatype = wrapper.metatype as (new (...args: never[]) => object) | undefined;
      const prototype = (wrapper.instance ? Object.getPrototypeOf(wrapper.instance) : metatype?.prototype) as object | null | undefined;
      if (!prototype || typeof prototype !== 'object') continue;
      const className = (wrapper.instance?.constructor as { name?: string } | undefined)?.name ?? metatype?.name ?? String(wrapper.name);
      let hasProducer = false;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, unknown>)[methodName] as object;
        const origin = `${className}.${methodName}`;
        const subscriptions = Reflect.getMetadata(SUBSCRIBE_METADATA, method) as SubscriptionMetadata[] | undefined;
        hasProducer ||= Reflect.getMetadata(PRODUCER_METADATA, method) !== undefined;
        if (subscriptions === undefined) continue;
        if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
          throw new InvalidArgumentError(
            `${origin} has @Subscribe, but ${className} is request- or transient-scoped (or depends on such a provider); ` +
              `messages have no request, so make ${className} a singleton (the default scope).`,
          );
        }
        for (const subscription of subscriptions) {
          validate(origin, subscription);
          handlers.push({ instance: wrapper.instance as Record<string, unknown>, methodName, origin, subscription });
        }
      }
      if (hasProducer && wrapper.instance && !seen.has(wrapper.instance)) {
        seen.add(wrapper.instance);
        producerHosts.push(wrapper.instance);
      }
    }
    assertUnique(handlers);
    assertConcurrencyAgrees(handlers);
    return { handlers, producerHosts };
  }
}

function validate(origin: string, { topic, group, options }: SubscriptionMetadata): void {
  try {
    assertValidName('topic', topic);
    assertValidName('group', group);
  } catch (error) {
    throw new InvalidArgumentError(`${origin}: @Subscribe(${JSON.stringify(topic)}, ${JSON.stringify(group)}): ${(error as Error).message}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`${origin}: @Subscribe options must be an object like { retry, concurrency }.`);
  }
  for (const key of Object.keys(options)) {
    if (!(SUBSCRIBE_OPTION_KEYS as string[]).includes(key)) {
      throw new InvalidArgumentError(`${origin}: unknown @Subscribe option '${key}'; the options are ${SUBSCRIBE_OPTION_KEYS.join(', ')}.`);
    }
  }
  const { concurrency, fromBeginning } = options;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 10_000)) {
    throw new InvalidArgumentError(`${origin}: @Subscribe concurrency must be an integer from 1 to 10000; got ${JSON.stringify(concurrency)}.`);
  }
  if (fromBeginning !== undefined && typeof fromBeginning !== 'boolean') {
    throw new InvalidArgumentError(`${origin}: @Subscribe fromBeginning must be a boolean.`);
  }
}

function assertUnique(handlers: DiscoveredHandler[]): void {
  const owners = new Map<string, string>();
  for (const { origin, subscription } of handlers) {
    const key = `${subscription.topic}\u0000${subscription.group}`;
    const other = owners.get(key);
    if (other !== undefined) {
      throw new InvalidArgumentError(
        `${other} and ${origin} both subscribe to '${subscription.topic}' in group '${subscription.group}'; a group has one handler per topic — ` +
          `merge them, or use another group name for one of them.`,
      );
    }
    owners.set(key, origin);
  }
}

function assertConcurrencyAgrees(handlers: DiscoveredHandler[]): void {
  const chosen = new Map<string, { value: number; origin: string }>();
  for (const { origin, subscription } of handlers) {
    const value = subscription.options.concurrency;
    if (value === undefined) continue;
    const other = chosen.get(subscription.group);
    if (other !== undefined && other.value !== value) {
      throw new InvalidArgumentError(
        `${other.origin} sets concurrency ${other.value} and ${origin} sets ${value} for group '${subscription.group}', which shares one consumer; use the same value.`,
      );
    }
    chosen.set(subscription.group, { value, origin });
  }
}
