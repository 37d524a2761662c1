import { InvalidArgumentError, type Consumer, type EachBatchPayload, type EachMessagePayload } from '@brook/broker';
import { BatchContext } from './batch-context.js';
import { watchConsumer, type GroupConsumerDeps, type GroupRunner } from './group-runner.js';
import type { GroupSettings } from './group-settings.js';
import { createHandlerInvoker } from './handler-invoker.js';
import { MessageContext } from './message-context.js';
import { decoratorOf, type SubscriptionMetadata } from './subscribe.decorator.js';
import type { DiscoveredHandler } from './subscription.explorer.js';

/**
 * An exclusive consumer group: one consumer for all of the group's handlers, running `eachMessage`
 * (with the group's ordering and concurrency) or `eachBatch`, and dispatching by topic. Each
 * handler's retry policy, dead-lettering and name go with its topic's subscription.
 */
export class ExclusiveGroup implements GroupRunner {
  running = false;
  private readonly consumer: Consumer;
  private readonly dispatch = new Map<string, (payload: never) => Promise<void>>();
  private readonly origins: string[] = [];

  constructor(
    readonly settings: GroupSettings,
    private readonly deps: GroupConsumerDeps,
  ) {
    this.consumer = deps.brook.consumer({ ...deps.options.consumer, group: settings.group });
    watchConsumer(this.consumer, settings.group, deps.logger, deps.logging, () => (this.running = false));
    this.consumer.on('group.join', ({ generation, assigned }) =>
      deps.logger.log(
        `Group '${settings.group}' generation ${generation}: ${assigned.map(({ topic, partitions }) => `${topic}[${partitions.join(',')}]`).join(' ') || 'no partitions'}`,
      ),
    );
  }

  get topics(): string[] {
    return [...this.dispatch.keys()];
  }

  async add({ instance, methodName, origin, subscription }: DiscoveredHandler): Promise<void> {
    const contextCreator = this.deps.contextCreator;
    if (contextCreator === undefined) {
      throw new InvalidArgumentError(`${origin}: ExclusiveGroup.add needs Nest's ExternalContextCreator; add handlers that already run through Nest's pipeline with route().`);
    }
    if (subscription.kind === 'batch') {
      const invoke = createHandlerInvoker<BatchContext>(contextCreator, instance, methodName);
      await this.route(subscription, origin, (payload: EachBatchPayload) => invoke(payload.batch.messages.map((message) => message.value), new BatchContext(payload)));
    } else {
      const invoke = createHandlerInvoker<MessageContext>(contextCreator, instance, methodName);
      await this.route(subscription, origin, (payload: EachMessagePayload) => invoke(payload.message.value, new MessageContext(payload)));
    }
  }

  /**
   * Subscribes to the subscription's topic and hands its messages to `handle`, under the
   * subscription's retry policy and dead-lettering (named `origin` in dead letters). The
   * microservices transport routes its `@EventPattern` handlers here, which already run through
   * Nest's pipeline.
   */
  async route<P extends EachMessagePayload | EachBatchPayload>(subscription: SubscriptionMetadata, origin: string, handle: (payload: P) => Promise<void>): Promise<void> {
    const { kind, topic, group, options } = subscription;
    try {
      await this.consumer.subscribe({ topic, fromBeginning: options.fromBeginning, retry: options.retry, deadLetter: options.deadLetter, handlerName: origin });
    } catch (error) {
      throw new InvalidArgumentError(`${origin}: ${decoratorOf(kind)}('${topic}', '${group}') cannot start: ${(error as Error).message}`, { cause: error });
    }
    this.origins.push(origin);
    this.dispatch.set(topic, handle as (payload: never) => Promise<void>);
  }

  async start(): Promise<void> {
    const { retry, deadLetter } = this.deps.options;
    const { kind, ordering, concurrency } = this.settings;
    const handler = (topic: string) => this.dispatch.get(topic) as (payload: unknown) => Promise<void>;
    try {
      if (kind === 'batch') await this.consumer.run({ concurrency, retry, deadLetter, eachBatch: (payload) => handler(payload.batch.topic)(payload) });
      else await this.consumer.run({ ordering, concurrency, retry, deadLetter, eachMessage: (payload) => handler(payload.topic)(payload) });
    } catch (error) {
      throw new InvalidArgumentError(`Group '${this.settings.group}' of ${this.origins.join(', ')} cannot start: ${(error as Error).message}`, { cause: error });
    }
    this.running = true;
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
  }
}
