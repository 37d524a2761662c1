/**
 * End-to-end latency at a fixed rate: this process produces at 1,000 msg/s, then at 10,000 msg/s,
 * to 8 partitions; a consumer in another process records, per message, its receive time minus the
 * time the producer stamped into the message just before sending it (both from the machine's
 * monotonic clock). Brook (producer.send + consumer.run with defaults, i.e. `ordering: 'partition'`,
 * and with `ordering: 'key', concurrency: 100`) against a raw baseline in the same run on the same
 * Redis (pipelined XADD; a blocking XREADGROUP loop + XACK in the other process), each on a topic /
 * streams of its own. Brook's p50 and p99 are reported as ratios to the raw ones.
 *
 * Pacing: a timer fires every millisecond (setTimeout 1, in practice every 1–1.2 ms); each tick
 * sends every message due by then, `rate × elapsed − sent`, in one send() / one pipeline. So the
 * rate holds exactly over the phase and messages go out in batches of about rate / 1,000.
 *
 * Each variant runs BENCH_ROUNDS times (default 2), interleaved (the order rotates every round) so
 * that load from elsewhere on the machine hits all alike, each time in a fresh consumer process:
 * 2 s of warm-up at 1,000 msg/s and 1 s at 10,000 msg/s, not measured, then BENCH_SECONDS
 * (default 4) per rate. Percentiles are taken over the samples of all rounds. On a small shared VM
 * the tail is mostly garbage-collection pauses and scheduling, which is why the raw baseline sits
 * next to every Brook figure; the CPU this process (with the consumer), Redis and everything else
 * used is printed per variant.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Brook } from '@brook/broker';
import { benchRedis, report, sampleOrder, type Verdict } from './support/bench-redis.js';
import { CpuLog } from './support/cpu.js';
import { nowUs, type LatencyReply, type LatencyValue } from './support/latency-consumer.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PARTITIONS = 8;
const RATES = [1_000, 10_000] as const;
/** Brook's p50 and p99 may be at most this many times raw's, at each rate. */
const TARGET_RATIO = 1.3;
const KEY_CONCURRENCY = 100;
const TOPIC = 'bench.latency';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITE_NODE = fileURLToPath(new URL('../node_modules/vite-node/dist/cli.mjs', import.meta.url));

/** Sends one timer tick's messages, already stamped: one send() or one pipeline. */
type SendTick = (messages: Array<{ key: string; value: LatencyValue }>) => void;

interface Child {
  process: ChildProcess;
  ask(question: 'counts' | 'report'): Promise<LatencyReply>;
}

async function startConsumer(env: Record<string, string>): Promise<Child> {
  const child = fork(VITE_NODE, ['--config', 'vitest.config.ts', 'bench/support/latency-consumer.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const replies: Array<(reply: LatencyReply) => void> = [];
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  child.on('message', (reply: LatencyReply) => (reply.type === 'ready' ? ready() : replies.shift()?.(reply)));
  child.once('exit', (code) => {
    if (code !== 0) console.error(`latency consumer exited with ${code}`);
  });
  await isReady;
  return {
    process: child,
    ask: (question) =>
      new Promise((resolve) => {
        replies.push(resolve);
        child.send(question);
      }),
  };
}

/** Produces at `rate` for `seconds`; returns how many messages were sent. */
async function pace(send: SendTick, phase: string, rate: number, seconds: number): Promise<number> {
  const started = performance.now();
  const total = Math.round(rate * seconds);
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1_000)) - sent;
    if (due > 0) {
      const messages = Array.from({ length: due }, (_, i) => {
        const n = sent + i;
        return { key: `customer-${n % 5_000}`, value: { ...sampleOrder(n), phase, sentAtUs: 0 } };
      });
      const stampedAt = nowUs();
      for (const message of messages) message.value.sentAtUs = stampedAt;
      send(messages);
      sent += due;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return sent;
}

async function drained(child: Child, phase: string, expected: number): Promise<void> {
  const deadline = performance.now() + 15_000;
  for (;;) {
    const reply = await child.ask('counts');
    if (reply.type === 'counts' && (reply.counts[phase] ?? 0) >= expected) return;
    if (performance.now() > deadline) throw new Error(`the consumer received ${reply.type === 'counts' ? (reply.counts[phase] ?? 0) : '?'} of ${expected} messages of phase ${phase}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  count: number;
}

function percentiles(latenciesUs: number[]): Percentiles {
  const sorted = [...latenciesUs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] / 1_000;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), count: sorted.length };
}

/** Latencies in microseconds per rate. */
type Samples = Record<number, number[]>;

/** Runs the warm-up and both rates against one consumer process. */
async function measure(send: SendTick, child: Child): Promise<Samples> {
  const phases: Array<[phase: string, rate: number, seconds: number]> = [
    ['warmup-1000', 1_000, 2],
    ['1000', 1_000, SECONDS],
    ['warmup-10000', 10_000, 1],
    ['10000', 10_000, SECONDS],
  ];
  for (const [phase, rate, seconds] of phases) {
    const sent = await pace(send, phase, rate, seconds);
    await drained(child, phase, sent);
  }
  const reply = await child.ask('report');
  if (reply.type !== 'report') throw new Error('unexpected reply');
  child.process.send('stop');
  await new Promise((resolve) => child.process.once('exit', resolve));
  return Object.fromEntries(RATES.map((rate) => [rate, reply.latenciesUs[String(rate)]]));
}

let runs = 0;

async function brookVariant(url: string, ordering: 'partition' | 'key'): Promise<Samples> {
  const prefix = `bench-latency-${++runs}`;
  const brook = new Brook({ redis: url, clientId: 'bench-producer', prefix, logger: quiet });
  await brook.admin().createTopic({ topic: TOPIC, partitions: PARTITIONS });
  const producer = brook.producer();
  const child = await startConsumer({ LATENCY_MODE: 'brook', REDIS_URL: url, PREFIX: prefix, TOPIC, GROUP: 'latency', ORDERING: ordering, CONCURRENCY: String(KEY_CONCURRENCY) });
  // The consumer has joined; wait until it owns the partitions (its first fetch ran).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const failures: unknown[] = [];
  const result = await measure((messages) => void producer.send({ topic: TOPIC, messages }).catch((error: unknown) => failures.push(error)), child);
  await brook.admin().deleteTopic(TOPIC);
  await brook.close();
  if (failures.length > 0) throw failures[0];
  return result;
}

async function rawVariant(url: string): Promise<Samples> {
  const redis = new Redis(url);
  const logs = Array.from({ length: PARTITIONS }, (_, p) => `bench-latency-raw:${p}`);
  const child = await startConsumer({ LATENCY_MODE: 'raw', REDIS_URL: url, GROUP: 'latency', LOGS: logs.join(',') });
  let n = 0;
  const result = await measure((messages) => {
    const pipeline = redis.pipeline();
    for (const { key, value } of messages) pipeline.xadd(logs[n++ % PARTITIONS], '*', 'k', key, 'v', JSON.stringify(value));
    void pipeline.exec();
  }, child);
  await redis.del(...logs);
  redis.disconnect();
  return result;
}

const ms = (value: number) => value.toFixed(2);
const row = ({ p50, p99, p999 }: Percentiles) => `${ms(p50)} / ${ms(p99)} / ${ms(p999)} ms`;

const VARIANTS = ['raw', 'partition', 'key'] as const;
type Variant = (typeof VARIANTS)[number];
const LABELS: Record<Variant, string> = { raw: 'raw', partition: "brook 'partition'", key: "brook 'key'" };

const redis = await benchRedis();
const cpu = new CpuLog(redis.url);
try {
  const samples = Object.fromEntries(VARIANTS.map((variant) => [variant, RATES.map((): number[] => [])])) as Record<Variant, number[][]>;
  for (let round = 0; round < ROUNDS; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    for (const variant of order) {
      const result = await cpu.measure(variant, () => (variant === 'raw' ? rawVariant(redis.url) : brookVariant(redis.url, variant)));
      RATES.forEach((rate, i) => samples[variant][i].push(...result[rate]));
    }
  }
  const stats = Object.fromEntries(VARIANTS.map((variant) => [variant, Object.fromEntries(RATES.map((rate, i) => [rate, percentiles(samples[variant][i])]))])) as Record<
    Variant,
    Record<number, Percentiles>
  >;
  const raw = stats.raw;
  const rows: Array<[string, string]> = [];
  const verdicts: Verdict[] = [];
  for (const rate of RATES) {
    const label = `${rate.toLocaleString('en-US')} msg/s`;
    rows.push([`raw p50 / p99 / p99.9 at ${label}`, row(raw[rate])]);
    for (const variant of ['partition', 'key'] as const) {
      const brook = stats[variant][rate];
      rows.push([`${LABELS[variant]} p50 / p99 / p99.9 at ${label}`, `${row(brook)} (p50 ${(brook.p50 / raw[rate].p50).toFixed(2)}×, p99 ${(brook.p99 / raw[rate].p99).toFixed(2)}× raw)`]);
      verdicts.push({ label: `${LABELS[variant]} p50 ÷ raw at ${label}`, ratio: brook.p50 / raw[rate].p50, target: TARGET_RATIO, atMost: true });
      verdicts.push({ label: `${LABELS[variant]} p99 ÷ raw at ${label}`, ratio: brook.p99 / raw[rate].p99, target: TARGET_RATIO, atMost: true });
    }
  }
  for (const variant of VARIANTS) rows.push([`${LABELS[variant]} (node = producer + consumer process)`, cpu.format(variant)]);
  const counts = RATES.map((rate) => stats.partition[rate].count.toLocaleString('en-US')).join(' + ');
  report(
    `latency: end to end, producer in this process, consumer in another, ${PARTITIONS} partitions, ${ROUNDS} rounds of ${SECONDS} s per rate after warm-up, ${counts} messages measured per variant; 'key' runs ${KEY_CONCURRENCY} handlers in flight`,
    rows,
    verdicts,
  );
  const note = cpu.contentionNote();
  if (note !== undefined) console.log(`  ${note}`);
} finally {
  cpu.close();
  await redis.stop();
}
