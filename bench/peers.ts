/**
 * CPU-bound throughput against the peers, in one run on one private Redis: producing and consuming
 * 200,000 JSON messages of about 200 bytes (no-op handlers) with
 * - raw ioredis: pipelined XADD in batches of 1,000 over 8 streams; one XREADGROUP loop over the 8
 *   partition logs + XACK per batch, parsing each JSON value (as bench/produce.ts and
 *   bench/consume.ts do);
 * - Brook: producer.send() of 1,000 messages keyed over 8 partitions, acks: 'leader' (idempotent,
 *   as every Brook producer); one consumer at default options, and with `ordering: 'key',
 *   concurrency: 100`;
 * - BullMQ: Queue.addBulk() of 1,000-job chunks; one Worker at concurrency 100 with a no-op
 *   processor. BullMQ consumes about a tenth as fast, so its Worker is timed over the first
 *   BENCH_BULLMQ_CONSUME jobs (default 50,000) of a queue holding all 200,000, and the rate is
 *   reported; its rate does not depend on how many jobs the run counts.
 * Each variant runs BENCH_ROUNDS times (default 3), interleaved; medians are reported, with the CPU
 * this process and Redis used meanwhile (both share the machine's cores).
 */
import { Brook } from '@brook/broker';
import { benchRedis, formatRate, medians, produceOrders, rate, report, sampleOrder, type Verdict } from './support/bench-redis.js';
import { addOrders, drainOrders, dropQueue, freshQueue } from './support/bullmq.js';
import { CpuLog } from './support/cpu.js';
import { rawConsumeMs, rawProduceMs } from './support/raw-baselines.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 200_000);
const BULLMQ_CONSUME = Math.min(TOTAL, Number(process.env.BENCH_BULLMQ_CONSUME ?? 50_000));
const PARTITIONS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 1_000;
const READ_BATCH = 500;
const CONCURRENCY = 100;
const PREFIX = 'bench-peers';
const TOPIC = 'bench.peers';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let runs = 0;
const fresh = (variant: string) => `${variant}-${++runs}`;

async function rawProduce(url: string): Promise<number> {
  const streams = Array.from({ length: PARTITIONS }, (_, p) => `${fresh('bench-peers-raw')}:${p}`);
  return rate(TOTAL, await rawProduceMs(url, streams, TOTAL, BATCH));
}

async function brookProduce(url: string): Promise<number> {
  const brook = new Brook({ redis: url, clientId: 'bench-peers', prefix: fresh('bench-peers-produce'), logger: quiet });
  const topic = 'bench.produce';
  await brook.admin().createTopic({ topic, partitions: PARTITIONS });
  const producer = brook.producer({ acks: 'leader' });
  const started = performance.now();
  for (let sent = 0; sent < TOTAL; sent += BATCH) {
    const messages = Array.from({ length: BATCH }, (_, i) => ({ key: `customer-${(sent + i) % 5_000}`, value: sampleOrder(sent + i) }));
    await producer.send({ topic, messages });
  }
  const elapsed = performance.now() - started;
  await brook.admin().deleteTopic(topic);
  await brook.close();
  return rate(TOTAL, elapsed);
}

/** The queue the last BullMQ produce run filled; the BullMQ consume run of the same round drains it. */
let filledQueue: string | undefined;

async function bullmqProduce(url: string): Promise<number> {
  filledQueue = freshQueue('peers');
  return rate(TOTAL, await addOrders(url, filledQueue, TOTAL));
}

async function bullmqConsume(url: string): Promise<number> {
  if (filledQueue === undefined) throw new Error('BullMQ consume runs after BullMQ produce');
  const queue = filledQueue;
  filledQueue = undefined;
  const elapsed = await drainOrders(url, queue, { count: BULLMQ_CONSUME, concurrency: CONCURRENCY, processor: async () => undefined });
  await dropQueue(url, queue);
  return rate(BULLMQ_CONSUME, elapsed);
}

/** The baseline consumer (see rawConsumeMs). */
async function rawConsume(url: string, logs: string[]): Promise<number> {
  return rate(TOTAL, await rawConsumeMs(url, logs, fresh('raw'), TOTAL, READ_BATCH));
}

async function brookConsume(url: string, ordering: 'default' | 'key'): Promise<number> {
  const brook = new Brook({ redis: url, clientId: 'bench-peers', prefix: PREFIX, logger: quiet });
  const consumer = brook.consumer({ group: fresh(`brook-${ordering}`) });
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  let handled = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const eachMessage = async () => {
    if (++handled === TOTAL) done();
  };
  const started = performance.now();
  await consumer.run(ordering === 'key' ? { ordering: 'key', concurrency: CONCURRENCY, eachMessage } : { eachMessage });
  await finished;
  const elapsed = performance.now() - started;
  await brook.close();
  return rate(TOTAL, elapsed);
}

const redis = await benchRedis();
const cpu = new CpuLog(redis.url);
try {
  const setupStarted = performance.now();
  await produceOrders(redis.url, { prefix: PREFIX, topic: TOPIC, partitions: PARTITIONS, total: TOTAL });
  const logs = Array.from({ length: PARTITIONS }, (_, p) => `${PREFIX}:{${TOPIC}:${p}}:log`);
  const m = await medians(ROUNDS, {
    rawProduce: () => cpu.measure('rawProduce', () => rawProduce(redis.url)),
    brookProduce: () => cpu.measure('brookProduce', () => brookProduce(redis.url)),
    bullmqProduce: () => cpu.measure('bullmqProduce', () => bullmqProduce(redis.url)),
    rawConsume: () => cpu.measure('rawConsume', () => rawConsume(redis.url, logs)),
    brookConsume: () => cpu.measure('brookConsume', () => brookConsume(redis.url, 'default')),
    brookKey: () => cpu.measure('brookKey', () => brookConsume(redis.url, 'key')),
    bullmqConsume: () => cpu.measure('bullmqConsume', () => bullmqConsume(redis.url)),
  });
  const seconds = Math.round((performance.now() - setupStarted) / 1_000);

  const row = (variant: keyof typeof m, ...ratios: Array<[string, number]>): string => {
    const compared = ratios.map(([peer, base]) => `${(m[variant] / base).toFixed(2)}× ${peer}`).join(', ');
    return `${formatRate(m[variant])}${compared === '' ? '' : ` (${compared})`}; ${cpu.format(variant)}`;
  };
  const bullCount = BULLMQ_CONSUME === TOTAL ? '' : ` (timed over ${BULLMQ_CONSUME.toLocaleString('en-US')} jobs)`;
  const verdicts: Verdict[] = [
    { label: 'brook produce vs raw', ratio: m.brookProduce / m.rawProduce, target: 1.0 },
    { label: 'brook produce vs BullMQ', ratio: m.brookProduce / m.bullmqProduce, target: 4 },
    { label: 'brook consume vs raw', ratio: m.brookConsume / m.rawConsume, target: 1.0 },
    { label: 'brook consume vs BullMQ', ratio: m.brookConsume / m.bullmqConsume, target: 4 },
    { label: "brook 'key' consume vs raw", ratio: m.brookKey / m.rawConsume, target: 1.0 },
    { label: "brook 'key' consume vs BullMQ", ratio: m.brookKey / m.bullmqConsume, target: 4 },
  ];
  report(
    `peers: median of ${ROUNDS} rounds, ${TOTAL.toLocaleString('en-US')} messages of ~${JSON.stringify(sampleOrder(1)).length} bytes, ${PARTITIONS} partitions / streams, no-op handlers, ${seconds} s in all`,
    [
      ['produce: raw ioredis XADD pipeline of 1,000', row('rawProduce')],
      ['produce: brook send(1,000 messages)', row('brookProduce', ['raw', m.rawProduce], ['BullMQ', m.bullmqProduce])],
      ['produce: BullMQ addBulk(1,000 jobs)', row('bullmqProduce')],
      ['consume: raw ioredis XREADGROUP + XACK', row('rawConsume')],
      ['consume: brook run() defaults', row('brookConsume', ['raw', m.rawConsume], ['BullMQ', m.bullmqConsume])],
      [`consume: brook ordering: 'key', concurrency ${CONCURRENCY}`, row('brookKey', ['raw', m.rawConsume], ['BullMQ', m.bullmqConsume])],
      [`consume: BullMQ Worker, concurrency ${CONCURRENCY}${bullCount}`, row('bullmqConsume')],
    ],
    verdicts,
  );
  const note = cpu.contentionNote();
  if (note !== undefined) console.log(`  ${note}`);
} finally {
  cpu.close();
  await redis.stop();
}
