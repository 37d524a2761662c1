/**
 * Producer throughput: 200,000 JSON messages of about 200 bytes, keyed over 8 partitions,
 * acks: 'leader', against a raw ioredis loop of pipelined XADD (batches of 1,000) on the same Redis.
 * Each variant runs BENCH_ROUNDS times (default 3), interleaved; medians are reported. Peak RSS is
 * sampled during one more batched run.
 */
import { Brook } from '@brook/broker';
import { benchRedis, formatRate, medians, rate, report, sampleOrder, withPeakRss } from './support/bench-redis.js';
import { rawProduceMs } from './support/raw-baselines.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 200_000);
const BATCH = 1_000;
const PARTITIONS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function brookProducer(url: string, mode: 'batched' | 'concurrent'): Promise<number> {
  const brook = new Brook({ redis: url, clientId: 'bench', prefix: `bench-${mode}` });
  const topic = 'bench.produce';
  await brook.admin().createTopic({ topic, partitions: PARTITIONS });
  const producer = brook.producer({ acks: 'leader' });
  const started = performance.now();
  for (let sent = 0; sent < TOTAL; sent += BATCH) {
    const messages = Array.from({ length: BATCH }, (_, i) => ({ key: `customer-${(sent + i) % 5_000}`, value: sampleOrder(sent + i) }));
    if (mode === 'batched') {
      await producer.send({ topic, messages });
    } else {
      await Promise.all(messages.map((message) => producer.send({ topic, messages: [message] })));
    }
  }
  const elapsed = performance.now() - started;
  await brook.admin().deleteTopic(topic);
  await brook.close();
  return rate(TOTAL, elapsed);
}

async function rawLoop(url: string): Promise<number> {
  const streams = Array.from({ length: PARTITIONS }, (_, p) => `bench-raw:${p}`);
  return rate(TOTAL, await rawProduceMs(url, streams, TOTAL, BATCH));
}

const redis = await benchRedis();
try {
  const { raw, batched, concurrent } = await medians(ROUNDS, {
    raw: () => rawLoop(redis.url),
    batched: () => brookProducer(redis.url, 'batched'),
    concurrent: () => brookProducer(redis.url, 'concurrent'),
  });
  global.gc?.();
  const { peakRssMiB } = await withPeakRss(() => brookProducer(redis.url, 'batched'));
  report(`produce: median of ${ROUNDS} rounds, ${TOTAL.toLocaleString('en-US')} messages of ~${JSON.stringify(sampleOrder(1)).length} bytes, ${PARTITIONS} partitions, acks: leader`, [
    ['raw ioredis XADD pipeline', formatRate(raw)],
    ['brook send(1,000 messages)', formatRate(batched)],
    ['brook 1,000 concurrent send(1)', `${formatRate(concurrent)} (${(concurrent / raw).toFixed(2)}×)`],
    ['peak RSS while producing', `${peakRssMiB} MiB`],
  ], { ratio: batched / raw, target: 1.0 });
} finally {
  await redis.stop();
}
