/**
 * Consumer throughput: 200,000 JSON messages of about 200 bytes on 8 partitions, produced once, then
 * read by one Brook consumer with a no-op handler (default options, and with
 * partitionsConsumedConcurrently: 8), timed from run() until the last message was handled, against
 * a raw ioredis loop of XREADGROUP over the 8 partition logs + XACK per batch on the same Redis and
 * the same messages. Every variant and round reads with a consumer group of its own.
 * Each variant runs BENCH_ROUNDS times (default 3), interleaved; medians are reported.
 */
import { Brook } from '@brook/broker';
import { benchRedis, formatRate, medians, produceOrders, rate, report, sampleOrder, withPeakRss } from './support/bench-redis.js';
import { rawConsumeMs } from './support/raw-baselines.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 200_000);
const PARTITIONS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 500;
const PREFIX = 'bench-consume';
const TOPIC = 'bench.consume';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let groups = 0;
const freshGroup = (variant: string) => `${variant}-${++groups}`;

async function produceOnce(url: string): Promise<string[]> {
  await produceOrders(url, { prefix: PREFIX, topic: TOPIC, partitions: PARTITIONS, total: TOTAL });
  return Array.from({ length: PARTITIONS }, (_, p) => `${PREFIX}:{${TOPIC}:${p}}:log`);
}

async function brookConsumer(url: string, concurrency: number | undefined): Promise<number> {
  const brook = new Brook({ redis: url, clientId: 'bench-consumer', prefix: PREFIX, logger: quiet });
  const consumer = brook.consumer({ group: freshGroup(`brook-${concurrency ?? 1}`) });
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  let handled = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const started = performance.now();
  await consumer.run({
    partitionsConsumedConcurrently: concurrency,
    eachMessage: async () => {
      if (++handled === TOTAL) done();
    },
  });
  await finished;
  const elapsed = performance.now() - started;
  await brook.close();
  return rate(TOTAL, elapsed);
}

/**
 * The baseline: what an application would write by hand (see rawConsumeMs). Like Brook it parses
 * every message's JSON value, so the comparison is like for like; Brook does more on top (leases,
 * fencing, the message object, one handler call per message).
 */
async function rawLoop(url: string, logs: string[]): Promise<number> {
  return rate(TOTAL, await rawConsumeMs(url, logs, freshGroup('raw'), TOTAL, BATCH));
}

const redis = await benchRedis();
try {
  const logs = await produceOnce(redis.url);
  const { raw, sequential, concurrent } = await medians(ROUNDS, {
    raw: () => rawLoop(redis.url, logs),
    sequential: () => brookConsumer(redis.url, undefined),
    concurrent: () => brookConsumer(redis.url, 8),
  });
  global.gc?.();
  const { peakRssMiB } = await withPeakRss(() => brookConsumer(redis.url, undefined));
  report(`consume: median of ${ROUNDS} rounds, ${TOTAL.toLocaleString('en-US')} messages of ~${JSON.stringify(sampleOrder(1)).length} bytes, ${PARTITIONS} partitions, one consumer, no-op handler`, [
    ['raw ioredis XREADGROUP + XACK', formatRate(raw)],
    ['brook run() defaults', formatRate(sequential)],
    ['brook partitionsConsumedConcurrently: 8', `${formatRate(concurrent)} (${(concurrent / raw).toFixed(2)}×)`],
    ['peak RSS while consuming', `${peakRssMiB} MiB`],
  ], { ratio: sequential / raw, target: 1.0 });
} finally {
  await redis.stop();
}
