import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { AuthGuard } from './auth/auth.guard.js';
import { rateLimitTracker } from './auth/rate-limit-key.js';
import { BrookModule } from './brook/brook.module.js';
import type { ResolvedHostOptions } from './config/host-options.js';
import { HostOptionsModule } from './config/host-options.module.js';
import { ConsoleModule } from './console/console.module.js';
import { DeadLettersModule } from './dead-letters/dead-letters.module.js';
import { GroupsModule } from './groups/groups.module.js';
import { HealthModule } from './health/health.module.js';
import { ErrorsFilter } from './http/errors.filter.js';
import { RequestBodyInterceptor } from './http/request-body.interceptor.js';
import { MaintenanceModule } from './maintenance/maintenance.module.js';
import { MessagesModule } from './messages/messages.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { TopicsModule } from './topics/topics.module.js';
import { TopologyModule } from './topology/topology.module.js';

/** The broker host: the admin API, metrics, health and the maintenance controller. */
@Module({})
export class AppModule {
  static forRoot(options: ResolvedHostOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HostOptionsModule.forRoot(options),
        BrookModule,
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: 60_000, limit: options.rateLimitPerMinute }],
          getTracker: rateLimitTracker(options.adminTokens),
          // One budget over every endpoint, not one per route.
          generateKey: (_context, tracker, name) => `${name}:${tracker}`,
        }),
        TopicsModule,
        TopologyModule,
        GroupsModule,
        MessagesModule,
        DeadLettersModule,
        MaintenanceModule,
        MetricsModule,
        HealthModule,
        ConsoleModule,
      ],
      providers: [
        // Throttling first, so guessing tokens is rate limited too (by address; verified tokens by name).
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        { provide: APP_GUARD, useClass: AuthGuard },
        // Bodies are read after both guards: a refused client never gets its body read or parsed.
        { provide: APP_INTERCEPTOR, useClass: RequestBodyInterceptor },
        { provide: APP_FILTER, useClass: ErrorsFilter },
      ],
    };
  }
}
