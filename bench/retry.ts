/**
 * Retry cost: the consume benchmark in non-blocking retry mode, once failure-free and once with 1 %
 * of messages failing twice before they succeed (each failure parks the message in the group's delay
 * queue; it comes back when due). Both are timed from run() until every message was handled
 * successfully, on the same Redis, in the same run. Target: ≥ 0.8× the failure-free throughput.
 * Each variant runs BENCH_ROUNDS times (default 3), interleaved; medians are reported.
 */
import { Brook } from '@brook/broker';
import { benchRedis, formatRate, medians, produceOrders, rate, report } from './support/bench-redis.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 200_000);
const PARTITIONS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PREFIX = 'bench-retry';
const TOPIC = 'bench.retry';
/** Every hundredth message fails twice. */
const FAILS = (offset: number) => offset % 100 === 0;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let groups = 0;

async function consume(url: string, failing: boolean): Promise<{ rate: number; retried: number }> {
  const brook = new Brook({ redis: url, clientId: 'bench-consumer', prefix: PREFIX, logger: quiet });
  const consumer = brook.consumer({ group: `${failing ? 'failing' : 'clean'}-${++groups}` });
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  let handled = 0;
  let retried = 0;
  consumer.on('retry', () => retried++);
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const started = performance.now();
  await consumer.run({
    retry: { mode: 'non-blocking', attempts: 3, backoff: { type: 'fixed', initialMs: 10, jitter: 0 } },
    eachMessage: async ({ message, attempt }) => {
      if (failing && attempt < 3 && FAILS(message.offset)) throw new Error('transient failure');
      if (++handled === TOTAL) done();
    },
  });
  await finished;
  const elapsed = performance.now() - started;
  await brook.close();
  return { rate: rate(TOTAL, elapsed), retried };
}

const redis = await benchRedis();
try {
  await produceOrders(redis.url, { prefix: PREFIX, topic: TOPIC, partitions: PARTITIONS, total: TOTAL });
  let retried = 0;
  const { clean, failing } = await medians(ROUNDS, {
    clean: async () => (await consume(redis.url, false)).rate,
    failing: async () => {
      const result = await consume(redis.url, true);
      retried = result.retried;
      return result.rate;
    },
  });
  report(`retry: median of ${ROUNDS} rounds, ${TOTAL.toLocaleString('en-US')} messages, ${PARTITIONS} partitions, non-blocking retries`, [
    ['failure-free', formatRate(clean)],
    ['1 % failing twice, then succeeding', formatRate(failing)],
    ['retries per run', retried.toLocaleString('en-US')],
  ], { ratio: failing / clean, target: 0.8 });
} finally {
  await redis.stop();
}
