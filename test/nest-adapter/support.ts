import 'reflect-metadata';
import type { INestApplicationContext, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, inject } from 'vitest';
import { BrokerModule, type BrokerModuleOptions } from '@brook/nest-adapter';
import { uniquePrefix } from '../support/brook.js';

const apps: INestApplicationContext[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close().catch(() => undefined);
});

/** Fast group timings for tests. */
export const FAST_CONSUMER = { sessionTimeoutMs: 1_000, heartbeatIntervalMs: 50, maxWaitTimeMs: 1_000 } as const;

/** Module options against the shared test Redis with a fresh key prefix. */
export function brokerOptions(overrides: Partial<BrokerModuleOptions> = {}): BrokerModuleOptions {
  return {
    redis: inject('redisUrl'),
    prefix: uniquePrefix(),
    clientId: 'nest-test',
    consumer: FAST_CONSUMER,
    retry: { attempts: 3, backoff: { type: 'fixed', initialMs: 20, jitter: 0 } },
    ...overrides,
  };
}

/** Compiles and initialises a testing module (consumers start); closed after the test. */
export async function startApp(metadata: ModuleMetadata, options: BrokerModuleOptions = brokerOptions()): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({ ...metadata, imports: [BrokerModule.forRoot(options), ...(metadata.imports ?? [])] })
    .setLogger({ log() {}, error() {}, warn() {}, debug() {}, verbose() {}, fatal() {} })
    .compile();
  // A testing module is an application context itself: init() runs the lifecycle hooks.
  apps.push(moduleRef);
  await moduleRef.init();
  return moduleRef;
}
