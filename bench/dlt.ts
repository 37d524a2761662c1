/**
 * Dead-letter search: 100,000 dead letters of one group on 8 partitions (written by the real
 * dead-letter script, index included), then pages of 100 by each kind of filter through
 * `admin().deadLetters.list`, against the same query answered by scanning the dead letters
 * (XRANGE, filtered in the client: how a search without an index works) in the same run. Prints
 * p50/p95 per filter kind, the ratio of p95s, and the index's memory per dead letter (MEMORY USAGE
 * of every index key). Target: p95 ≤ 200 ms per filtered page.
 */
import { Redis } from 'ioredis';
import { Brook, type DeadLetterFilter } from '@brook/broker';
import { deadLetterFields } from '../libs/broker/src/dead-letters/dead-letter-record.js';
import { KeySpace } from '../libs/broker/src/redis/keys.js';
import { SCRIPTS } from '../libs/broker/src/redis/script-table.js';
import { defineScripts, sendScript } from '../libs/broker/src/redis/scripts.js';
import { benchRedis, report } from './support/bench-redis.js';

const TOTAL = Number(process.env.BENCH_DEAD_LETTERS ?? 100_000);
const PARTITIONS = 8;
const QUERIES = Number(process.env.BENCH_QUERIES ?? 20);
/** Scans are slow (a rare filter reads every dead letter): only the first queries of each kind are also scanned. */
const SCAN_QUERIES = Number(process.env.BENCH_SCAN_QUERIES ?? 5);
const PREFIX = 'bench-dlt';
const TOPIC = 'bench.dlt';
const GROUP = 'billing';
const KEYS = TOTAL / 5;
const ERROR_NAMES = ['TypeError', 'RangeError', 'SyntaxError', 'TimeoutError', 'ConnectionError', 'ValidationError', 'DeadlockError', 'QuotaError'];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** What message `i` failed with: mostly handler errors, a few rarer kinds, rare texts. */
function failure(i: number) {
  const reason = i % 100 === 0 ? 'validation' : i % 10 === 1 ? 'non-retriable' : i % 10 === 2 ? 'timeout' : 'handler-error';
  const name = ERROR_NAMES[Math.min(ERROR_NAMES.length - 1, Math.floor(Math.log2(1 + (i * 2_654_435_761) % 255)))];
  const text = i % 200 === 7 ? 'deadlock detected on table payments' : i % 20 === 3 ? 'connection refused by ledger' : `cannot process order ${i}`;
  // A stack like a handler's, without paying for capturing one per message.
  return { reason, error: { name, message: text, stack: `${name}: ${text}\n    at charge (/app/dist/billing.js:41:11)\n    at process (/app/dist/consumer.js:88:5)` } };
}

async function fill(url: string, keys: KeySpace): Promise<{ firstMs: number; lastMs: number }> {
  const brook = new Brook({ redis: url, clientId: 'bench-dlt', prefix: PREFIX, logger: quiet });
  await brook.admin().createTopic({ topic: TOPIC, partitions: PARTITIONS });
  await brook.close();
  const redis = new Redis(url);
  defineScripts(redis);
  await redis.hset(keys.groups(), GROUP, JSON.stringify({ topics: [TOPIC] }));
  for (let partition = 0; partition < PARTITIONS; partition++) await redis.set(keys.lease(TOPIC, partition, GROUP), 'bench:1');
  const firstMs = Date.now();
  // Each message is dead-lettered as a worker does it for a retried message it took from the
  // delay queue: the real dead-letter script, index included, without producing and reading the
  // log first (that part is not what this benchmark measures).
  for (let i = 0; i < TOTAL; i += 1_000) {
    const pipeline = redis.pipeline();
    for (let n = i; n < Math.min(TOTAL, i + 1_000); n++) {
      const partition = n % PARTITIONS;
      const offset = Math.floor(n / PARTITIONS);
      const id = `0-${offset + 1}`;
      const messageId = `bench-${n}`;
      const { reason, error } = failure(n);
      pipeline.hset(keys.delayTaken(TOPIC, partition, GROUP), id, 'bench:1');
      const fields = ['i', messageId, 't', String(firstMs), 'e', 'json', 'k', `customer-${n % KEYS}`, 'v', JSON.stringify({ order: n, amount: 12.5, currency: 'EUR', lines: [{ sku: `sku-${n % 97}`, qty: 1 }] })].map((field) => Buffer.from(field));
      const input = {
        topic: TOPIC, partition, group: GROUP, token: 'bench:1', id, messageId, source: 'delay' as const, failed: true,
        diagnostics: deadLetterFields({ topic: TOPIC, partition, offset, group: GROUP, handler: 'bench', attempts: 3, reason: reason as 'timeout', error }),
        fields,
      };
      const spec = SCRIPTS.deadLetter;
      void sendScript(pipeline as unknown as Redis, spec.name, spec.keys(keys, input), spec.args(input), false);
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error, reply]) => error !== null || (Array.isArray(reply) && reply[0] !== 'ok' && reply[0] !== 'OK' && reply[0] !== undefined && typeof reply[0] === 'string' && reply[0] !== 'ok'));
    if (failed) throw failed[0] ?? new Error(`dead-letter answered ${JSON.stringify(failed[1])}`);
  }
  await redis.quit();
  return { firstMs, lastMs: Date.now() };
}

/** The same page answered by scanning: XRANGE every partition in order, filter in the client. */
async function scanPage(redis: Redis, keys: KeySpace, filter: DeadLetterFilter, limit: number): Promise<number> {
  let found = 0;
  const lower = filter.errorMessage?.toLowerCase();
  for (let p = filter.partition ?? 0; p <= (filter.partition ?? PARTITIONS - 1); p++) {
    let start = filter.from === undefined ? '-' : `${filter.from}-0`;
    const end = filter.to === undefined ? '+' : `${filter.to}-18446744073709551615`;
    for (;;) {
      const entries = await redis.xrange(keys.deadLetters(TOPIC, p, GROUP), start, end, 'COUNT', 500);
      for (const [, fields] of entries) {
        const get = (name: string) => fields[fields.indexOf(name) + 1];
        const offset = Number(get('offset'));
        if (filter.reason !== undefined && get('reason') !== filter.reason) continue;
        if (filter.errorName !== undefined && get('errorName') !== filter.errorName) continue;
        if (filter.key !== undefined && get('k') !== filter.key) continue;
        if (lower !== undefined && !get('errorMessage').toLowerCase().includes(lower)) continue;
        if (filter.fromOffset !== undefined && offset < filter.fromOffset) continue;
        if (filter.toOffset !== undefined && offset > filter.toOffset) continue;
        if (++found === limit) return found;
      }
      if (entries.length < 500) break;
      start = `(${entries[entries.length - 1][0]}`;
    }
  }
  return found;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const server = await benchRedis();
try {
  const keys = new KeySpace(PREFIX);
  const filled = performance.now();
  const { firstMs, lastMs } = await fill(server.url, keys);
  const fillMs = performance.now() - filled;
  console.log(`filled ${TOTAL} dead letters in ${(fillMs / 1_000).toFixed(1)} s`);
  const span = lastMs - firstMs;
  let seed = 7;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
  const window = () => {
    const from = firstMs + Math.floor(random() * span * 0.9);
    return { from, to: from + Math.floor(span / 10) };
  };
  const kinds: Record<string, () => DeadLetterFilter> = {
    'no filter': () => ({}),
    reason: () => ({ reason: pick(['validation', 'timeout', 'non-retriable'] as const) }),
    'error name': () => ({ errorName: pick(ERROR_NAMES) }),
    'message text': () => ({ errorMessage: pick(['deadlock', 'REFUSED', 'order 4']) }),
    key: () => ({ key: `customer-${Math.floor(random() * KEYS)}` }),
    'partition + offsets': () => {
      const fromOffset = Math.floor(random() * Math.max(1, TOTAL / PARTITIONS - 1_000));
      return { partition: Math.floor(random() * PARTITIONS), fromOffset, toOffset: fromOffset + 1_000 };
    },
    'time range': window,
    combined: () => ({ reason: 'handler-error', errorName: pick(ERROR_NAMES), ...window() }),
  };

  const brook = new Brook({ redis: server.url, clientId: 'bench-dlt-search', prefix: PREFIX, logger: quiet });
  const redis = new Redis(server.url);
  const rows: Array<[string, string]> = [
    ['dead letters', `${TOTAL.toLocaleString('en-US')} on ${PARTITIONS} partitions, ${KEYS.toLocaleString('en-US')} keys, written in ${(fillMs / 1_000).toFixed(1)} s (${Math.round(TOTAL / (fillMs / 1_000))}/s through dead-letter.lua, pipelined)`],
  ];
  const all: number[] = [];
  const allScan: number[] = [];
  for (const [kind, make] of Object.entries(kinds)) {
    const indexed: number[] = [];
    const scanned: number[] = [];
    let items = 0;
    for (let q = 0; q < QUERIES; q++) {
      const filter = make();
      let started = performance.now();
      const page = await brook.admin().deadLetters.list({ topic: TOPIC, group: GROUP, limit: 100, ...filter });
      indexed.push(performance.now() - started);
      items += page.items.length;
      // The second page as well, when there is one: paging by cursor is part of the workload.
      if (page.nextCursor !== null) {
        started = performance.now();
        await brook.admin().deadLetters.list({ topic: TOPIC, group: GROUP, limit: 100, cursor: page.nextCursor, ...filter });
        indexed.push(performance.now() - started);
      }
      if (q < SCAN_QUERIES) {
        started = performance.now();
        await scanPage(redis, keys, filter, 100);
        scanned.push(performance.now() - started);
      }
    }
    all.push(...indexed);
    allScan.push(...scanned);
    console.log(`  ${kind}: index p95 ${percentile(indexed, 0.95).toFixed(1)} ms, scan p95 ${percentile(scanned, 0.95).toFixed(1)} ms`);
    rows.push([
      kind,
      `index p50 ${percentile(indexed, 0.5).toFixed(1)} ms, p95 ${percentile(indexed, 0.95).toFixed(1)} ms; scan p95 ${percentile(scanned, 0.95).toFixed(1)} ms (${(percentile(scanned, 0.95) / percentile(indexed, 0.95)).toFixed(1)}×); ${(items / QUERIES).toFixed(0)} items/page`,
    ]);
  }

  let indexBytes = 0;
  let dltBytes = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    const tags = await redis.hkeys(keys.deadLetterTags(TOPIC, p, GROUP));
    for (const key of [keys.deadLetterTags(TOPIC, p, GROUP), keys.deadLetterKeys(TOPIC, p, GROUP), ...tags.map((tag) => keys.deadLetterPostings(TOPIC, p, GROUP, tag))]) {
      indexBytes += Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    }
    dltBytes += Number(await redis.call('MEMORY', 'USAGE', keys.deadLetters(TOPIC, p, GROUP), 'SAMPLES', '0'));
  }
  rows.push(['all filters', `index p95 ${percentile(all, 0.95).toFixed(1)} ms over ${all.length} pages; scan p95 ${percentile(allScan, 0.95).toFixed(1)} ms`]);
  rows.push(['index memory', `${(indexBytes / TOTAL).toFixed(0)} B per dead letter (${(indexBytes / 1_048_576).toFixed(1)} MiB); the dead letters themselves ${(dltBytes / TOTAL).toFixed(0)} B each`]);
  report('Dead-letter search (pages of 100)', rows, [
    { label: 'p95 ms, every filter kind', ratio: percentile(all, 0.95), target: 200, unit: ' ms', atMost: true },
    { label: 'p95 speed-up over the scan', ratio: percentile(allScan, 0.95) / percentile(all, 0.95), target: 1 },
  ]);
  await redis.quit();
  await brook.close();
} finally {
  await server.stop();
}
