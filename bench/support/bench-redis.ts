import { Brook } from '@brook/broker';
import { RedisServer } from '../../test/support/redis-server.js';

/** The Redis a benchmark runs against: `BENCH_REDIS_URL` if set, else a private redis-server. */
export async function benchRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const external = process.env.BENCH_REDIS_URL;
  if (external) return { url: external, stop: async () => undefined };
  const server = await RedisServer.start();
  return { url: server.url, stop: () => server.stop() };
}

/** Messages per second. */
export function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1_000);
}

export function formatRate(perSecond: number): string {
  return `${perSecond.toLocaleString('en-US')} msg/s`;
}

/**
 * A figure checked against its target: by default a ratio to the baseline that must reach `target`;
 * with `atMost`, a figure (latency, CPU) that must stay at or under it.
 */
export interface Verdict {
  ratio: number;
  target: number;
  /** @defaultValue `'ratio'` */
  label?: string;
  /** @defaultValue `'×'` */
  unit?: string;
  atMost?: boolean;
}

/** Prints a result block in one format for every benchmark. */
export function report(title: string, rows: Array<[string, string]>, verdicts?: Verdict | Verdict[]): void {
  const checks = verdicts === undefined ? [] : Array.isArray(verdicts) ? verdicts : [verdicts];
  const width = Math.max(...rows.map(([label]) => label.length), ...checks.map(({ label = 'ratio' }) => label.length));
  console.log(`\n${title}`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
  for (const { ratio, target, label = 'ratio', unit = '×', atMost = false } of checks) {
    const ok = atMost ? ratio <= target : ratio >= target;
    const verdict = ok ? 'OK' : atMost ? 'ABOVE TARGET' : 'BELOW TARGET';
    console.log(`  ${label.padEnd(width)}  ${ratio.toFixed(2)}${unit} (target ${atMost ? '≤' : '≥'} ${target}${unit}) ${verdict}`);
  }
}

/** A JSON order of about 200 bytes. */
export function sampleOrder(i: number): Record<string, unknown> {
  return {
    orderId: `ord-${String(i).padStart(8, '0')}`,
    customerId: `customer-${i % 5_000}`,
    amount: Math.round(i * 7.31) / 100,
    currency: 'EUR',
    items: [
      { sku: `sku-${i % 97}`, qty: 1 + (i % 3) },
      { sku: `sku-${i % 89}`, qty: 1 },
    ],
    createdAt: '2026-11-23T10:00:00.000Z',
    channel: 'web',
  };
}

/** Samples this process's RSS while `work` runs and returns the peak in MiB. */
export async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakRssMiB: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakRssMiB: Math.round(peak / 1_048_576) };
  } finally {
    clearInterval(timer);
  }
}

/** Runs each variant `rounds` times, interleaved so drift hits all alike, and returns the median of each. */
export async function medians<K extends string>(rounds: number, variants: Record<K, () => Promise<number>>): Promise<Record<K, number>> {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (const key of Object.keys(variants) as K[]) samples[key].push(await variants[key]());
  }
  return Object.fromEntries(
    Object.entries(samples).map(([k, values]) => [k, (values as number[]).sort((a, b) => a - b)[Math.floor((values as number[]).length / 2)]]),
  ) as Record<K, number>;
}

/** Creates `topic` and fills it with `total` sample orders keyed over 5,000 customers, 1,000 per send. */
export async function produceOrders(url: string, { prefix, topic, partitions, total }: { prefix: string; topic: string; partitions: number; total: number }): Promise<void> {
  const brook = new Brook({ redis: url, clientId: 'bench-producer', prefix, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  await brook.admin().createTopic({ topic, partitions });
  const producer = brook.producer({ acks: 'leader' });
  for (let sent = 0; sent < total; sent += 1_000) {
    const messages = Array.from({ length: Math.min(1_000, total - sent) }, (_, i) => ({ key: `customer-${(sent + i) % 5_000}`, value: sampleOrder(sent + i) }));
    await producer.send({ topic, messages });
  }
  await brook.close();
}
