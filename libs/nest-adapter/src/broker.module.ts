import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Brook, InvalidArgumentError } from '@brook/broker';
import { BrokerLifecycle } from './broker.lifecycle.js';
import { BROOK_MODULE_OPTIONS, ConfigurableModuleClass } from './broker.module-definition.js';
import type { BrokerModuleOptions } from './broker.options.js';
import { BROOK_PRODUCER } from './brook.tokens.js';
import { BrookHealthIndicator } from './brook.health-indicator.js';
import { nestLogger } from './nest-logger.js';
import { SubscriptionExplorer } from './subscription.explorer.js';

/**
 * Brook for a Nest application: provides the `Brook` client and a producer, runs every
 * `@Subscribe` handler, wires `@Producer` methods, and shuts all of it down with the application.
 *
 * ```ts
 * @Module({ imports: [BrokerModule.forRoot({ redis: process.env.REDIS_URL, clientId: 'billing' })] })
 * export class AppModule {}
 * ```
 * `forRootAsync({ imports, inject, useFactory })` takes the options from other providers; pass
 * `isGlobal: true` to make the providers visible to every module.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: Brook,
      inject: [BROOK_MODULE_OPTIONS],
      useFactory: ({ topics: _topics, retry: _retry, deadLetter: _deadLetter, consumer: _consumer, producer: _producer, logging: _logging, logger, redis, ...options }: BrokerModuleOptions) => {
        if (redis === undefined || redis === null || redis === '') {
          throw new InvalidArgumentError(
            "BrokerModule needs the redis option: a redis:// URL, ioredis options, { sentinels, name } or { cluster: [...] }. With redis: process.env.REDIS_URL, set REDIS_URL (e.g. redis://127.0.0.1:6379).",
          );
        }
        return new Brook({ ...options, redis, logger: logger ?? nestLogger() });
      },
    },
    {
      provide: BROOK_PRODUCER,
      inject: [Brook, BROOK_MODULE_OPTIONS],
      useFactory: (brook: Brook, options: BrokerModuleOptions) => brook.producer(options.producer),
    },
    SubscriptionExplorer,
    BrokerLifecycle,
    BrookHealthIndicator,
  ],
  exports: [Brook, BROOK_PRODUCER, BrookHealthIndicator],
})
export class BrokerModule extends ConfigurableModuleClass {}
