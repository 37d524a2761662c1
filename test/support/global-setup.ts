import type { TestProject } from 'vitest/node';
import { RedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One private redis-server shared by every test file; tests isolate themselves by key prefix. */
export default async function setup(project: TestProject) {
  const server = await RedisServer.start();
  project.provide('redisUrl', server.url);
  return async () => {
    await server.stop();
  };
}
