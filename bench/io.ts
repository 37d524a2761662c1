/**
 * I/O-bound handlers: 20,000 messages on 8 partitions, keyed over 5,000 customers, each handled by
 * a handler that awaits 5 ms (setTimeout), as a call to another service would. What bounds
 * throughput is how many handlers run at once: with 100 in flight and 5 ms each, at most
 * 100 ÷ 5 ms = 20,000 msg/s (the limit; setTimeout(5) takes a little over 5 ms, so the true
 * ceiling is a little lower).
 *
 * Variants, each on a topic (or queue) and group of its own, timed from run() (BullMQ: the
 * Worker's creation) until the last message was handled:
 * - Brook consumer, `ordering: 'key', concurrency: 100`;
 * - Brook consumer, `ordering: 'partition', partitionsConsumedConcurrently: 8`: one handler per
 *   partition at a time, the way a partition-ordered consumer ran before key ordering;
 * - Brook share group, one member at concurrency 100, and two members at 100 each (two clients in
 *   this process, so on one event loop and one core);
 * - the baseline, measured in the same run on the same Redis: BullMQ, one Worker at concurrency
 *   100, the jobs added with Queue.addBulk beforehand;
 * - for reference, the ceiling of the event loop itself: 100 loops awaiting the handler, no broker.
 * Each variant runs BENCH_ROUNDS times (default 3), interleaved; medians are reported. Producing
 * (or adding the jobs) is not timed.
 */
import { Brook, type EachMessageHandler } from '@brook/broker';
import { benchRedis, formatRate, medians, produceOrders, rate, report } from './support/bench-redis.js';
import { addOrders, drainOrders, dropQueue, freshQueue } from './support/bullmq.js';
import { CpuLog } from './support/cpu.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 20_000);
const PARTITIONS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HANDLER_MS = 5;
const CONCURRENCY = 100;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

type Variant = 'timers' | 'bullmq' | 'key' | 'share1' | 'share2' | 'partition';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** The most messages per second `inFlight` handlers of HANDLER_MS each can get through. */
const limitOf = (inFlight: number) => Math.round((inFlight * 1_000) / HANDLER_MS);

/**
 * Time handlers spent in their setTimeout, per variant: on a busy event loop a 5 ms timer fires
 * late, which lowers the real ceiling below the nominal limit.
 */
const slept = new Map<string, { ms: number; count: number }>();
let sleeping = { ms: 0, count: 0 };
async function ioHandler(): Promise<void> {
  const started = performance.now();
  await sleep(HANDLER_MS);
  sleeping.ms += performance.now() - started;
  sleeping.count++;
}
/** Runs one variant, recording its CPU and its handlers' time in setTimeout under `variant`. */
async function measured(cpu: CpuLog, variant: Variant, work: () => Promise<number>): Promise<number> {
  let total = slept.get(variant);
  if (total === undefined) slept.set(variant, (total = { ms: 0, count: 0 }));
  sleeping = total;
  return cpu.measure(variant, work);
}
const meanSleep = (variant: Variant) => {
  const { ms, count } = slept.get(variant) ?? { ms: 0, count: 0 };
  return count === 0 ? 0 : ms / count;
};

let runs = 0;
/** A topic with TOTAL sample orders of its own, under a prefix of its own. */
async function freshTopic(url: string, variant: string): Promise<{ prefix: string; topic: string }> {
  const prefix = `bench-io-${variant}-${++runs}`;
  const topic = 'bench.io';
  await produceOrders(url, { prefix, topic, partitions: PARTITIONS, total: TOTAL });
  return { prefix, topic };
}

/**
 * Counts each message once (by partition and offset) and resolves `finished` when all TOTAL were
 * handled; a share group may hand a message over again after a lock expired, which `repeats` counts.
 */
function tally(): { handle: EachMessageHandler; finished: Promise<void>; repeats: () => number } {
  const seen = new Set<number>();
  let calls = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  return {
    handle: async ({ partition, message }) => {
      await ioHandler();
      calls++;
      seen.add(message.offset * PARTITIONS + partition);
      if (seen.size === TOTAL) done();
    },
    finished,
    repeats: () => calls - seen.size,
  };
}

async function brookExclusive(url: string, ordering: 'key' | 'partition'): Promise<number> {
  const { prefix, topic } = await freshTopic(url, ordering);
  const brook = new Brook({ redis: url, clientId: 'bench-io', prefix, logger: quiet });
  const consumer = brook.consumer({ group: 'io' });
  await consumer.subscribe({ topic, fromBeginning: true });
  const { handle, finished } = tally();
  const started = performance.now();
  await consumer.run(ordering === 'key' ? { ordering: 'key', concurrency: CONCURRENCY, eachMessage: handle } : { partitionsConsumedConcurrently: PARTITIONS, eachMessage: handle });
  await finished;
  const elapsed = performance.now() - started;
  await brook.admin().deleteTopic(topic);
  await brook.close();
  return rate(TOTAL, elapsed);
}

let shareRepeats = 0;
async function brookShare(url: string, members: number): Promise<number> {
  const { prefix, topic } = await freshTopic(url, `share${members}`);
  const clients = Array.from({ length: members }, (_, m) => new Brook({ redis: url, clientId: `bench-io-${m}`, prefix, logger: quiet }));
  const consumers = clients.map((brook) => brook.shareConsumer({ group: 'io' }));
  for (const consumer of consumers) await consumer.subscribe({ topic, fromBeginning: true });
  const { handle, finished, repeats } = tally();
  const started = performance.now();
  await Promise.all(consumers.map((consumer) => consumer.run({ concurrency: CONCURRENCY, eachMessage: handle })));
  await finished;
  const elapsed = performance.now() - started;
  shareRepeats += repeats();
  await Promise.all(consumers.map((consumer) => consumer.stop()));
  await clients[0].admin().deleteTopic(topic);
  await Promise.all(clients.map((brook) => brook.close()));
  return rate(TOTAL, elapsed);
}

/**
 * What this machine's event loop allows without any broker: CONCURRENCY loops, each awaiting the
 * handler TOTAL ÷ CONCURRENCY times. setTimeout(5) fires after 5 ms or a little more, so this sits
 * somewhat below the nominal limit; no consumer can beat it.
 */
async function bareTimers(): Promise<number> {
  let begun = 0;
  const started = performance.now();
  const loop = async () => {
    while (begun < TOTAL) {
      begun++;
      await ioHandler();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return rate(TOTAL, performance.now() - started);
}

async function bullmq(url: string): Promise<number> {
  const queue = freshQueue('io');
  await addOrders(url, queue, TOTAL);
  const elapsed = await drainOrders(url, queue, { count: TOTAL, concurrency: CONCURRENCY, processor: ioHandler });
  await dropQueue(url, queue);
  return rate(TOTAL, elapsed);
}

const redis = await benchRedis();
const cpu = new CpuLog(redis.url);
try {
  const result = await medians<Variant>(ROUNDS, {
    timers: () => measured(cpu, 'timers', bareTimers),
    bullmq: () => measured(cpu, 'bullmq', () => bullmq(redis.url)),
    key: () => measured(cpu, 'key', () => brookExclusive(redis.url, 'key')),
    share1: () => measured(cpu, 'share1', () => brookShare(redis.url, 1)),
    share2: () => measured(cpu, 'share2', () => brookShare(redis.url, 2)),
    partition: () => measured(cpu, 'partition', () => brookExclusive(redis.url, 'partition')),
  });
  const bull = result.bullmq;
  const key = result.key;

  const line = (variant: Variant, inFlight: number, vsBull = true) => {
    const value = result[variant];
    const limit = limitOf(inFlight);
    const parts = [`${(value / bull).toFixed(2)}× BullMQ`, `${Math.round((value / limit) * 100)}% of ${formatRate(limit)} for ${inFlight} in flight`];
    return `${formatRate(value)} (${(vsBull ? parts : parts.slice(1)).join(', ')}); setTimeout(${HANDLER_MS}) took ${meanSleep(variant).toFixed(2)} ms; ${cpu.format(variant)}`;
  };
  const rows: Array<[string, string]> = [
    [`no broker: ${CONCURRENCY} loops awaiting the handler`, line('timers', CONCURRENCY, false)],
    [`BullMQ Worker, concurrency ${CONCURRENCY}`, line('bullmq', CONCURRENCY, false)],
    [`brook ordering: 'key', concurrency ${CONCURRENCY}`, line('key', CONCURRENCY)],
    [`brook ordering: 'partition', ${PARTITIONS} partitions at once (before)`, line('partition', PARTITIONS)],
    [`brook share group, 1 member at ${CONCURRENCY}`, line('share1', CONCURRENCY)],
    [`brook share group, 2 members at ${CONCURRENCY} each`, line('share2', 2 * CONCURRENCY)],
    ['share group messages handled twice', shareRepeats.toLocaleString('en-US')],
  ];
  report(
    `io: median of ${ROUNDS} rounds, ${TOTAL.toLocaleString('en-US')} messages on ${PARTITIONS} partitions keyed over 5,000 customers, handler awaits ${HANDLER_MS} ms; limit = handlers in flight ÷ ${HANDLER_MS} ms`,
    rows,
    [
      { label: "brook 'key' vs BullMQ", ratio: key / bull, target: 1.5 },
      { label: "brook 'key' vs the limit", ratio: key / limitOf(CONCURRENCY), target: 0.8 },
    ],
  );
  const note = cpu.contentionNote();
  if (note !== undefined) console.log(`  ${note}`);
} finally {
  cpu.close();
  await redis.stop();
}
