/**
 * BullMQ, the peer the throughput benchmarks compare Brook with, on the same private Redis. Its
 * queues live in a database of their own (1), apart from Brook's keys in database 0.
 */
import { Queue, Worker, type ConnectionOptions, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import { sampleOrder } from './bench-redis.js';

export const BULLMQ_DB = 1;

/** BullMQ's connection options for `url` (its blocking connection needs `maxRetriesPerRequest: null`). */
export function bullConnection(url: string): ConnectionOptions {
  const { hostname, port, username, password } = new URL(url);
  return {
    host: hostname,
    port: Number(port || 6379),
    ...(username === '' ? {} : { username: decodeURIComponent(username) }),
    ...(password === '' ? {} : { password: decodeURIComponent(password) }),
    db: BULLMQ_DB,
    maxRetriesPerRequest: null,
  };
}

let queues = 0;
/** A queue name used by no earlier run. */
export const freshQueue = (variant: string) => `${variant}-${++queues}`;

/**
 * Adds `total` sample orders to queue `name` with `Queue.addBulk` in chunks of `chunk` jobs, job
 * options at BullMQ's defaults. Returns the milliseconds it took.
 */
export async function addOrders(url: string, name: string, total: number, chunk = 1_000): Promise<number> {
  const queue = new Queue(name, { connection: bullConnection(url) });
  await queue.waitUntilReady();
  const started = performance.now();
  for (let added = 0; added < total; added += chunk) {
    await queue.addBulk(Array.from({ length: Math.min(chunk, total - added) }, (_, i) => ({ name: 'order', data: sampleOrder(added + i) })));
  }
  const elapsed = performance.now() - started;
  await queue.close();
  return elapsed;
}

/**
 * Starts one Worker on queue `name` at `concurrency` and waits until `count` jobs went through
 * `processor`; returns the milliseconds from the Worker's creation until then. The Worker is
 * closed afterwards (jobs left in the queue stay there).
 */
export async function drainOrders(url: string, name: string, { count, concurrency, processor }: { count: number; concurrency: number; processor: Processor }): Promise<number> {
  let handled = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const started = performance.now();
  const worker = new Worker(
    name,
    async (job, token, signal) => {
      await processor(job, token, signal);
      if (++handled === count) done();
    },
    { connection: bullConnection(url), concurrency },
  );
  worker.on('error', (error) => console.error('bullmq worker:', error));
  await finished;
  const elapsed = performance.now() - started;
  await worker.close();
  return elapsed;
}

/** Deletes every key of queue `name` (without touching anything else, should BENCH_REDIS_URL point at a shared Redis). */
export async function dropQueue(url: string, name: string): Promise<void> {
  const redis = new Redis(url, { db: BULLMQ_DB });
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `bull:${name}:*`, 'COUNT', 5_000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}
