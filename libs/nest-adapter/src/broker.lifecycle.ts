import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { ExternalContextCreator, type ParamsFactory } from '@nestjs/core';
import { Brook, InvalidArgumentError, type Consumer, type EachMessagePayload, type Producer } from '@brook/broker';
import { BROOK_MODULE_OPTIONS } from './broker.module-definition.js';
import type { BrokerModuleOptions } from './broker.options.js';
import { BROOK_CONTEXT_TYPE, BROOK_PRODUCER, PRODUCER_HANDLE } from './brook.tokens.js';
import { toMessageFailure } from './handler-errors.js';
import { MessageContext } from './message-context.js';
import { BrookParamtype } from './params.decorators.js';
import type { ProducerHandle, PublishOptions } from './producer.decorator.js';
import { SubscriptionExplorer, type DiscoveredHandler } from './subscription.explorer.js';

/** One group's consumer and the handlers it dispatches to. */
interface GroupRunner {
  group: string;
  consumer: Consumer;
  handlers: Map<string, (payload: EachMessagePayload) => Promise<void>>;
  concurrency: number;
  running: boolean;
}

/** A group's consumer as the health indicator sees it. */
export interface GroupStatus {
  group: string;
  topics: string[];
  running: boolean;
}

const paramsFactory: ParamsFactory = {
  exchangeKeyForValue(type, data, args: [unknown, MessageContext] | undefined) {
    if (!args) return null;
    if (type === BrookParamtype.PAYLOAD) return data ? (args[0] as Record<string, unknown> | null)?.[data as string] : args[0];
    if (type === BrookParamtype.CONTEXT) return args[1];
    return null;
  },
};

/**
 * Runs the module: creates topics and wires handlers at init, starts one consumer per group once
 * the application has bootstrapped, and on shutdown stops them (in-flight handlers finish and are
 * acknowledged), flushes the producer and closes the connections.
 */
@Injectable()
export class BrokerLifecycle implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('Brook');
  private readonly groups = new Map<string, GroupRunner>();

  constructor(
    @Inject(BROOK_MODULE_OPTIONS) private readonly options: BrokerModuleOptions,
    private readonly brook: Brook,
    @Inject(BROOK_PRODUCER) private readonly producer: Producer,
    private readonly explorer: SubscriptionExplorer,
    private readonly contextCreator: ExternalContextCreator,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const topic of this.options.topics ?? []) await this.brook.admin().createTopic(topic);
    const { handlers, producerHosts } = this.explorer.explore();
    const handle = this.producerHandle();
    for (const host of producerHosts) Object.defineProperty(host, PRODUCER_HANDLE, { value: handle, configurable: true });
    for (const handler of handlers) await this.register(handler);
  }

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(
      [...this.groups.values()].map(async (runner) => {
        const { consumer, handlers } = runner;
        await consumer.run({
          partitionsConsumedConcurrently: runner.concurrency,
          retry: this.options.retry,
          deadLetter: this.options.deadLetter,
          eachMessage: (payload) => handlers.get(payload.topic)!(payload),
        });
        runner.running = true;
      }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.groups.values()].map((runner) => runner.consumer.stop()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.close();
    await this.brook.close();
  }

  /** Each group's consumer and whether it runs. */
  status(): GroupStatus[] {
    return [...this.groups.values()].map(({ group, handlers, running }) => ({ group, topics: [...handlers.keys()], running }));
  }

  private async register({ instance, methodName, origin, subscription }: DiscoveredHandler): Promise<void> {
    const { topic, group, options } = subscription;
    let runner = this.groups.get(group);
    if (runner === undefined) {
      const consumer = this.brook.consumer({ ...this.options.consumer, group });
      runner = { group, consumer, handlers: new Map(), concurrency: 1, running: false };
      this.groups.set(group, runner);
      this.watch(runner);
    }
    runner.concurrency = Math.max(runner.concurrency, options.concurrency ?? 1);
    try {
      await runner.consumer.subscribe({ topic, fromBeginning: options.fromBeginning, retry: options.retry, deadLetter: options.deadLetter, handlerName: origin });
    } catch (error) {
      throw new InvalidArgumentError(`${origin}: @Subscribe('${topic}', '${group}') cannot start: ${(error as Error).message}`, { cause: error });
    }
    const invoke = this.contextCreator.create(
      instance,
      instance[methodName] as (...args: unknown[]) => unknown,
      methodName,
      ROUTE_ARGS_METADATA,
      paramsFactory,
      undefined,
      undefined,
      undefined,
      BROOK_CONTEXT_TYPE,
    );
    runner.handlers.set(topic, async (payload) => {
      try {
        await invoke(payload.message.value, new MessageContext(payload));
      } catch (error) {
        throw toMessageFailure(error);
      }
    });
  }

  private watch({ group, consumer }: GroupRunner): void {
    consumer.on('group.join', ({ generation, assigned }) =>
      this.logger.log(`Group '${group}' generation ${generation}: ${assigned.map(({ topic, partitions }) => `${topic}[${partitions.join(',')}]`).join(' ') || 'no partitions'}`),
    );
    consumer.on('retry', ({ topic, partition, offset, attempt, delayMs }) =>
      this.logger.debug(`Retrying ${topic}[${partition}]@${offset} for '${group}' (attempt ${attempt}) in ${delayMs} ms`),
    );
    consumer.on('dead-letter', ({ topic, partition, offset, reason, attempts, deadLetterId }) =>
      this.logger.warn(`Dead-lettered ${topic}[${partition}]@${offset} for '${group}': ${reason} after ${attempts} attempt(s) (id ${deadLetterId})`),
    );
    consumer.on('request.error', ({ operation, error }) => this.logger.warn(`Group '${group}' could not ${operation}: ${error.message}`));
    consumer.on('crash', ({ error }) => this.logger.error(`Consumer of group '${group}' crashed: ${String(error)}`));
    consumer.on('stop', () => {
      const runner = this.groups.get(group);
      if (runner) runner.running = false;
    });
  }

  private producerHandle(): ProducerHandle {
    return {
      publish: async (topic: string, options: PublishOptions, result: unknown, args: unknown[], origin: string) => {
        if (options.array && !Array.isArray(result)) {
          throw new InvalidArgumentError(`${origin} has @Producer('${topic}', { array: true }) but resolved ${typeof result}, not an array.`);
        }
        const values = options.array ? (result as unknown[]) : [result];
        if (values.some((value) => value === undefined)) {
          throw new InvalidArgumentError(`${origin} resolved undefined; @Producer('${topic}') publishes what the method returns, so return the value (null for an empty one).`);
        }
        if (values.length === 0) return;
        await this.producer.send({
          topic,
          messages: values.map((value) => ({ value, key: options.key?.(value, ...args) ?? null, headers: options.headers?.(value, ...args) })),
        });
      },
    };
  }
}
