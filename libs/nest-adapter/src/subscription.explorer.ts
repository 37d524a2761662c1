import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { InvalidArgumentError } from '@brook/broker';
import { PRODUCER_METADATA, SUBSCRIBE_METADATA } from './brook.tokens.js';
import { resolveGroupSettings, type GroupSettings } from './group-settings.js';
import { decoratorOf, type SubscriptionMetadata } from './subscribe.decorator.js';
import { assertOneHandlerPerTopic, validateSubscription } from './subscription.validation.js';

/** A `@Subscribe` or `@SubscribeBatch` method found on a provider or controller. */
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
  /** How each group's consumer runs, as its handlers agreed. */
  groups: Map<string, GroupSettings>;
  /** Instances with `@Producer` methods. */
  producerHosts: object[];
}

/**
 * Finds `@Subscribe`, `@SubscribeBatch` and `@Producer` methods on every provider and controller,
 * and refuses a wrong setup at bootstrap with an error naming the class and method: invalid names
 * or options, two handlers for one (topic, group), handlers of one group that disagree on how its
 * consumer runs, handlers on request- or transient-scoped classes.
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
            `${origin} has ${decoratorOf(subscriptions[0].kind)}, but ${className} is request- or transient-scoped (or depends on such a provider); ` +
              `messages have no request, so make ${className} a singleton (the default scope).`,
          );
        }
        for (const subscription of subscriptions) {
          validateSubscription(origin, subscription);
          handlers.push({ instance: wrapper.instance as Record<string, unknown>, methodName, origin, subscription });
        }
      }
      if (hasProducer && wrapper.instance && !seen.has(wrapper.instance)) {
        seen.add(wrapper.instance);
        producerHosts.push(wrapper.instance);
      }
    }
    assertOneHandlerPerTopic(handlers);
    return { handlers, groups: resolveGroupSettings(handlers), producerHosts };
  }
}
