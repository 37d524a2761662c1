import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, inject } from 'vitest';
import { Brook, type BrookOptions } from '@brook/broker';

/** A unique key prefix, so tests and test files never see each other's keys. */
export function uniquePrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** A unique topic or group name. */
export function uniqueName(base: string): string {
  return `${base}.${randomBytes(3).toString('hex')}`;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

interface Opened {
  brook: Brook;
  redisUrl: string;
  prefix: string;
}

const opened: Opened[] = [];

/**
 * A Brook client on the shared test Redis (or `redis`), with a fresh key prefix. Closed, and its
 * keys deleted, after the test.
 */
export function createBrook(options: Partial<BrookOptions> = {}): Brook {
  const redisUrl = typeof options.redis === 'string' ? options.redis : inject('redisUrl');
  const prefix = options.prefix ?? uniquePrefix();
  const brook = new Brook({ redis: redisUrl, clientId: 'test', logger: silent, ...options, prefix });
  opened.push({ brook, redisUrl, prefix });
  return brook;
}

/** A raw ioredis client on the shared test Redis, closed after the test. */
export function rawRedis(url: string = inject('redisUrl')): Redis {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  raw.push(client);
  return client;
}

const raw: Redis[] = [];

afterEach(async () => {
  const toClose = opened.splice(0);
  await Promise.all(toClose.map(({ brook }) => brook.close()));
  for (const { redisUrl, prefix } of toClose) {
    if (typeof redisUrl !== 'string') continue;
    const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch {
      // The server of a fault test may be gone already.
    } finally {
      client.disconnect();
    }
  }
  for (const client of raw.splice(0)) client.disconnect();
});

/** Polls `condition` until it returns a truthy value or the timeout passes. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 10, message = 'condition' } = {},
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Exclude<T, undefined | null | false | 0 | ''>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Milliseconds on the clock of the Redis at `url`: the clock Brook's retention, leases and retries use. */
export async function redisTimeMs(url: string = inject('redisUrl')): Promise<number> {
  const [seconds, micros] = await rawRedis(url).time();
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
}

/** Waits until the Redis clock at `url` has reached `ms`. */
export async function waitForRedisTime(ms: number, url: string = inject('redisUrl')): Promise<void> {
  await waitFor(async () => (await redisTimeMs(url)) >= ms, { timeoutMs: Math.max(10_000, ms - Date.now() + 10_000), intervalMs: 20, message: `the Redis clock to reach ${ms}` });
}
