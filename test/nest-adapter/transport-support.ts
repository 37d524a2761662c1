import 'reflect-metadata';
import type { INestApplication, INestMicroservice, Type } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { afterEach, inject } from 'vitest';
import { BrookClient, BrookServer, type BrookClientOptions, type BrookServerOptions } from '@brook/nest-adapter/microservices';
import { createBrook, uniquePrefix } from '../support/brook.js';
import { FAST_CONSUMER } from './support.js';

export const SILENT = { log() {}, error() {}, warn() {}, debug() {}, verbose() {}, fatal() {} };
const silentBrook = { debug() {}, info() {}, warn() {}, error() {} };

const clients: BrookClient[] = [];
const apps: Array<INestApplication | INestMicroservice> = [];

afterEach(async () => {
  // Clients first: their close() deletes their reply topics while the servers still run.
  for (const client of clients.splice(0)) await client.close().catch(() => undefined);
  for (const app of apps.splice(0)) await app.close().catch(() => undefined);
});

/** One test's Brook deployment: a fresh key prefix on the shared test Redis, its keys deleted after the test. */
export function transportScope() {
  const prefix = uniquePrefix();
  const redis = inject('redisUrl');
  const brook = createBrook({ prefix });
  return {
    prefix,
    brook,
    /** A `BrookServer` on this prefix with fast group timings and quick retries. */
    server(options: Partial<BrookServerOptions> & { group: string }): BrookServer {
      return new BrookServer({
        redis,
        prefix,
        clientId: 'transport-server',
        consumer: FAST_CONSUMER,
        retry: { attempts: 3, backoff: { type: 'fixed', initialMs: 20, jitter: 0 } },
        logger: silentBrook,
        ...options,
      });
    },
    /** A `BrookClient` on this prefix, closed after the test. */
    client(options: Partial<BrookClientOptions> = {}): BrookClient {
      const client = new BrookClient({ redis, prefix, clientId: 'transport-client', logger: silentBrook, ...options });
      clients.push(client);
      return client;
    },
  };
}

/** A microservice running `controllers` on `server`, closed after the test. */
export async function startMicroservice(controllers: Type[], server: BrookServer): Promise<INestMicroservice> {
  const moduleRef = await Test.createTestingModule({ controllers }).setLogger(SILENT).compile();
  const app = moduleRef.createNestMicroservice<MicroserviceOptions>({ strategy: server, logger: SILENT });
  apps.push(app);
  await app.listen();
  return app;
}

/** Closes `app` after the test (for apps a test builds itself). */
export function closeAfterTest(app: INestApplication | INestMicroservice): void {
  apps.push(app);
}
