/**
 * Cost of a /metrics scrape of the broker host: 100 topics of 8 partitions, 5 groups consuming 20
 * topics each (1,600 partitions to visit). Reports, for an uncached scrape, the time, the Redis
 * commands it ran (INFO commandstats on a private server) and the response size; then how many
 * reads 20 scrapes within the cache time cost.
 */
import { Redis } from 'ioredis';
import { Brook } from '@brook/broker';
import { createBrokerHost } from '../apps/broker-host/src/host.js';
import { benchRedis, report } from './support/bench-redis.js';

const TOPICS = Number(process.env.BENCH_TOPICS ?? 100);
const PARTITIONS = 8;
const GROUPS = 5;
const TOPICS_PER_GROUP = 20;
const TOKEN = 'bench-token-0123456789abcdef';
const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function commandsRun(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  return [...stats.matchAll(/calls=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

async function seed(url: string): Promise<void> {
  const brook = new Brook({ redis: url, clientId: 'bench', logger: silent });
  const topics = Array.from({ length: TOPICS }, (_, i) => `bench.topic-${i}`);
  for (const topic of topics) await brook.admin().createTopic({ topic, partitions: PARTITIONS });
  await brook.producer().send({ topic: topics[0], messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: i })) });
  for (let g = 0; g < GROUPS; g++) {
    const consumer = brook.consumer({ group: `bench-group-${g}`, sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100 });
    await consumer.subscribe({ topics: topics.slice(g * TOPICS_PER_GROUP, (g + 1) * TOPICS_PER_GROUP), fromBeginning: true });
    await consumer.run({ eachMessage: async () => undefined });
    await consumer.stop();
  }
  await brook.close();
}

async function scrape(url: string): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`scrape failed: ${response.status} ${text}`);
  return { ms: performance.now() - started, bytes: Buffer.byteLength(text) };
}

const redis = await benchRedis();
const stats = new Redis(redis.url);
try {
  await seed(redis.url);
  const options = { redisUrl: redis.url, adminTokens: `bench:viewer:${TOKEN}`, logLevel: 'fatal' as const, controllerLeaseMs: 60_000, maintenanceIntervalMs: 3_600_000 };
  const uncached = await createBrokerHost({ ...options, metricsCacheMs: 0 });
  await uncached.app.listen(0, '127.0.0.1');
  const uncachedUrl = `http://127.0.0.1:${(uncached.app.getHttpServer().address() as { port: number }).port}`;
  await scrape(uncachedUrl);
  const times: number[] = [];
  let commands = 0;
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const before = await commandsRun(stats);
    const result = await scrape(uncachedUrl);
    // Minus the INFO call itself.
    commands = (await commandsRun(stats)) - before - 1;
    times.push(result.ms);
    bytes = result.bytes;
  }
  await uncached.app.close();

  const cached = await createBrokerHost({ ...options, metricsCacheMs: 5_000 });
  await cached.app.listen(0, '127.0.0.1');
  const cachedUrl = `http://127.0.0.1:${(cached.app.getHttpServer().address() as { port: number }).port}`;
  const before = await commandsRun(stats);
  await Promise.all(Array.from({ length: 20 }, () => scrape(cachedUrl)));
  const burstCommands = (await commandsRun(stats)) - before - 1;
  await cached.app.close();

  times.sort((a, b) => a - b);
  report(`/metrics scrape: ${TOPICS} topics × ${PARTITIONS} partitions, ${GROUPS} groups × ${TOPICS_PER_GROUP} topics`, [
    ['uncached scrape, median of 5', `${times[2].toFixed(1)} ms`],
    ['Redis commands per uncached scrape', commands.toLocaleString('en-US')],
    ['response size', `${Math.round(bytes / 1_024)} KiB`],
    ['20 concurrent scrapes, 5 s cache', `${burstCommands.toLocaleString('en-US')} Redis commands (one read)`],
  ]);
} finally {
  stats.disconnect();
  await redis.stop();
}
