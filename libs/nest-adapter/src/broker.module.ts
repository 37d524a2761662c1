import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Brook } from '@brook/broker';
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
      useFactory: ({ topics: _topics, retry: _retry, deadLetter: _deadLetter, consumer: _consumer, producer: _producer, logger, ...options }: BrokerModuleOptions) =>
        new Brook({ ...options, logger: logger ?? nestLogger() }),
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
