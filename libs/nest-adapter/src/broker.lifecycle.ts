import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { Brook, InvalidArgumentError, type Producer } from '@brook/broker';
import { BROOK_MODULE_OPTIONS } from './broker.module-definition.js';
import type { BrokerModuleOptions } from './broker.options.js';
import { resolveBrookLogging } from './brook.logging.js';
import { BROOK_PRODUCER, PRODUCER_HANDLE } from './brook.tokens.js';
import { ExclusiveGroup } from './exclusive-group.js';
import type { GroupRunner } from './group-runner.js';
import type { ProducerHandle, PublishOptions } from './producer.decorator.js';
import { ShareGroup } from './share-group.js';
import { SubscriptionExplorer } from './subscription.explorer.js';

/** A group's consumer as the health indicator sees it. */
export interface GroupStatus {
  group: string;
  topics: string[];
  running: boolean;
}

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
    const { handlers, groups, producerHosts } = this.explorer.explore();
    const handle = this.producerHandle();
    for (const host of producerHosts) Object.defineProperty(host, PRODUCER_HANDLE, { value: handle, configurable: true });
    const deps = { brook: this.brook, options: this.options, contextCreator: this.contextCreator, logger: this.logger, logging: resolveBrookLogging(this.options.logging) };
    for (const settings of groups.values()) {
      const members = handlers.filter((handler) => handler.subscription.group === settings.group);
      let runner: GroupRunner;
      try {
        runner = settings.share ? new ShareGroup(settings, deps) : new ExclusiveGroup(settings, deps);
      } catch (error) {
        throw new InvalidArgumentError(`${members.map((member) => member.origin).join(', ')}: group '${settings.group}' cannot start: ${(error as Error).message}`, { cause: error });
      }
      this.groups.set(settings.group, runner);
      for (const handler of members) await runner.add(handler);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([...this.groups.values()].map((runner) => runner.start()));
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.groups.values()].map((runner) => runner.stop()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.close();
    await this.brook.close();
  }

  /** Each group's consumer and whether it runs. */
  status(): GroupStatus[] {
    return [...this.groups.values()].map((runner) => ({ group: runner.settings.group, topics: runner.topics, running: runner.running }));
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
