/**
 * `npm run demo`: the order pipeline end to end. Finds or starts Redis, starts the broker host and
 * the sample service, sends orders, waits for the pipeline to settle, prints what happened, then
 * restocks and replays the inventory dead letters through the broker host's API, and stops
 * everything it started. It fails unless every outcome count, the retries, the dead letters and
 * the sequence of every delivered order's steps come out as the injected failures imply.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import type { DeadLetter } from '@brook/broker';
import { TOPICS } from '../config.js';
import type { OrderStatus } from '../store/order.js';
import { DemoChecks } from './demo-checks.js';
import { call } from './demo-http.js';
import { demoOrders } from './demo-orders.js';
import { startService, type DemoProcess } from './demo-process.js';
import { findRedis, freePort, type DemoRedis } from './demo-redis.js';

const program = new Command('demo')
  .description('Runs the Brook order pipeline demo')
  .option('--orders <count>', 'orders to send', (value) => Number.parseInt(value, 10), 2_000)
  .option('--concurrency <count>', 'orders in flight at once', (value) => Number.parseInt(value, 10), 64)
  .parse();
const { orders: orderCount, concurrency } = program.opts<{ orders: number; concurrency: number }>();

const dist = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const started: DemoProcess[] = [];
let redis: DemoRedis | undefined;
const prefix = `demo-${randomBytes(4).toString('hex')}`;
const token = randomBytes(24).toString('base64url');
let cleaning: Promise<void> | undefined;

interface Summary {
  total: number;
  byStatus: Record<OrderStatus, number>;
  latencyMs: { p50: number | null; p99: number | null };
  outOfSequence: { count: number; example: { orderId: string; problem: string } | null };
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.allSettled(started.map((service) => service.stop()));
    if (redis && !redis.owned) await deleteKeys(redis.url, prefix).catch(() => undefined);
    await redis?.stop();
  })();
  return cleaning;
}

process.on('SIGINT', () => {
  process.stdout.write('\nInterrupted: stopping everything the demo started…\n');
  void cleanup().then(() => process.exit(0));
});
process.on('SIGTERM', () => void cleanup().then(() => process.exit(0)));

try {
  await run();
  await cleanup();
  console.log('\nDone. Every process the demo started has stopped.');
} catch (error) {
  console.error(`\nThe demo failed: ${error instanceof Error ? error.message : String(error)}`);
  await cleanup();
  process.exit(1);
}

async function run(): Promise<void> {
  console.log('Brook demo: an order pipeline on Redis Streams\n');
  redis = await findRedis();
  console.log(`  Redis          ${redis.origin}`);
  const [hostPort, samplePort] = [await freePort(), await freePort()];
  const limitedStock = Math.ceil(orderCount * 0.025);
  const common = { REDIS_URL: redis.url, BROOK_PREFIX: prefix };
  const [host, sample] = await Promise.all([
    startService('broker host', dist('../../../broker-host/dist/main.js'), {
      ...common,
      PORT: String(hostPort),
      BROOK_ADMIN_TOKENS: `demo:admin:${token}`,
      BROOK_LOG_LEVEL: 'warn',
    }),
    startService('sample-orders', dist('../main.js'), { ...common, PORT: String(samplePort), LOG_LEVELS: 'error', LIMITED_STOCK: String(limitedStock) }),
  ]);
  started.push(host, sample);
  const hostUrl = `http://127.0.0.1:${hostPort}`;
  const sampleUrl = `http://127.0.0.1:${samplePort}`;
  console.log(`  broker host    ${hostUrl}  (OpenAPI at ${hostUrl}/docs, metrics at ${hostUrl}/metrics)`);
  console.log(`  sample-orders  ${sampleUrl}  (POST /orders, GET /orders/:id)`);
  console.log(`  key prefix     ${prefix}\n`);

  const orders = demoOrders(orderCount);
  const bar = new SingleBar({
    format: '  Sending orders  [{bar}] {value}/{total}  {rate} orders/s',
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 2_000,
  });
  const sendStart = performance.now();
  bar.start(orders.length, 0, { rate: 0 });
  let next = 0;
  let sent = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, orders.length) }, async () => {
      while (next < orders.length) {
        const order = orders[next++];
        await call('POST', `${sampleUrl}/orders`, order.body);
        sent++;
        bar.update(sent, { rate: Math.round(sent / ((performance.now() - sendStart) / 1_000)) });
      }
    }),
  );
  bar.stop();
  const sentS = (performance.now() - sendStart) / 1_000;
  const atLastOrder = await call<Summary>('GET', `${sampleUrl}/orders/summary`);
  const backlog = atLastOrder.byStatus.processing + atLastOrder.byStatus.shipped;

  const settled = await waitForSettled(sampleUrl, orders.length);
  const elapsedS = (performance.now() - sendStart) / 1_000;
  const injected = (kind: string) => orders.filter((o) => o.injected === kind).length;
  const expected = { declined: injected('declined'), flaky: injected('flaky'), outOfStock: Math.max(0, injected('limited') - limitedStock) };
  const payments = await call<{ partitions: Array<{ counters: { retried: number } }> }>('GET', `${hostUrl}/api/v1/groups/payments/topics/${TOPICS.ordersCreated}`, undefined, token);
  const retried = payments.partitions.reduce((sum, p) => sum + p.counters.retried, 0);
  const counts = await call<{ total: number; byTopicAndGroup: Array<{ topic: string; group: string; count: number }> }>('GET', `${hostUrl}/api/v1/dead-letters/count`, undefined, token);
  const [paymentLetters, inventoryLetters] = await Promise.all([deadLetters(hostUrl, 'payments'), deadLetters(hostUrl, 'inventory')]);

  console.log('\nSummary');
  console.log(`  orders sent      ${orders.length.toLocaleString('en-US')}`);
  console.log(`  delivered        ${settled.byStatus.delivered.toLocaleString('en-US')}   (paid, reserved, shipped and notified)`);
  console.log(`  declined         ${settled.byStatus.declined}   (declined cards injected: ${expected.declined})`);
  console.log(`  out of stock     ${settled.byStatus['out-of-stock']}   (waiting for stock in the inventory dead letters)`);
  console.log(`  retried          ${retried}   (the flaky gateway failed twice for ${expected.flaky} orders, which then paid)`);
  console.log(`  arrival          ${Math.round(orders.length / sentS)} orders/s   (POST /orders, ${concurrency} in flight, ${sentS.toFixed(1)} s)`);
  console.log(
    `  drain            ${Math.round(orders.length / elapsedS)} orders/s end to end (${elapsedS.toFixed(1)} s for everything; ${backlog} orders still in the pipeline when the last one arrived)`,
  );
  console.log(`  latency          p50 ${settled.latencyMs.p50} ms, p99 ${settled.latencyMs.p99} ms   (order accepted → customer notified, including time queued behind the burst)`);
  console.log('\nDead letters by group and reason   GET /api/v1/dead-letters');
  for (const { topic, group, count } of counts.byTopicAndGroup.filter((entry) => entry.count > 0)) {
    const letters = group === 'payments' ? paymentLetters : group === 'inventory' ? inventoryLetters : [];
    const reasons = countBy(letters.map((letter) => letter.reason));
    console.log(`  ${group.padEnd(10)} ${topic.padEnd(16)} ${String(count).padStart(5)}   ${Object.entries(reasons).map(([reason, n]) => `${reason} ×${n}`).join(', ')}`);
  }
  for (const letter of [paymentLetters[0], inventoryLetters[0]].filter(Boolean)) {
    console.log(`    e.g. ${letter.id}  ${letter.group}  ${letter.reason}  after ${letter.attempts} attempt(s): ${letter.error.message}`);
  }

  console.log('\nChecks');
  const checks = new DemoChecks();
  checks.expect('declined orders = declined cards injected', settled.byStatus.declined, expected.declined);
  checks.expect('out-of-stock orders = limited-SKU orders beyond its stock', settled.byStatus['out-of-stock'], expected.outOfStock);
  checks.expect('delivered orders = the rest', settled.byStatus.delivered, orders.length - expected.declined - expected.outOfStock);
  checks.expect('payments retries = 2 per flaky-gateway order', retried, expected.flaky * 2);
  checks.expect('payments dead letters = declined orders', paymentLetters.length, expected.declined);
  checks.expect('inventory dead letters = out-of-stock orders', inventoryLetters.length, expected.outOfStock);
  checks.expect('orders out of sequence (paid, reserved → shipped → notified)', settled.outOfSequence.count, 0);

  const stuck = settled.byStatus['out-of-stock'];
  console.log(`\nRestocking sku-limited and replaying the ${inventoryLetters.length} inventory dead letters   POST /api/v1/dead-letters/replay`);
  await call('POST', `${sampleUrl}/inventory/restock`, { sku: 'sku-limited', quantity: inventoryLetters.length + 10 });
  const replay = await call<{ replayed: number }>('POST', `${hostUrl}/api/v1/dead-letters/replay`, { topic: TOPICS.ordersCreated, group: 'inventory', all: true, to: 'group' }, token);
  const after = await waitForSettled(sampleUrl, orders.length, (summary) => summary.byStatus['out-of-stock'] === 0);
  console.log(`  replayed ${replay.replayed} to the inventory group only (payments did not see them again)`);
  console.log(`  out of stock ${stuck} → ${after.byStatus['out-of-stock']}; delivered ${settled.byStatus.delivered} → ${after.byStatus.delivered}`);
  const audit = await call<{ items: Array<{ actor: string; action: string; result: { count: number } }> }>('GET', `${hostUrl}/api/v1/dead-letters/audit?limit=1`, undefined, token);
  console.log(`  audit log: ${audit.items.map((item) => `${item.action} of ${item.result.count} by '${item.actor}'`).join('')}`);
  checks.expect('replayed = inventory dead letters', replay.replayed, inventoryLetters.length);
  checks.expect('delivered after the replay = all but the declined', after.byStatus.delivered, orders.length - expected.declined);
  checks.expect('orders out of sequence after the replay', after.outOfSequence.count, 0);
  if (after.outOfSequence.example) console.log(`    e.g. ${after.outOfSequence.example.orderId}: ${after.outOfSequence.example.problem}`);
  checks.assertAllPassed();
}

async function waitForSettled(sampleUrl: string, total: number, done: (summary: Summary) => boolean = () => true): Promise<Summary> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const summary = await call<Summary>('GET', `${sampleUrl}/orders/summary`);
    const open = summary.byStatus.processing + summary.byStatus.shipped;
    if (summary.total >= total && open === 0 && done(summary)) return summary;
    if (Date.now() > deadline) throw new Error(`The pipeline did not settle within 2 minutes: ${JSON.stringify(summary.byStatus)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function deadLetters(hostUrl: string, group: string): Promise<DeadLetter[]> {
  const items: DeadLetter[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `topic=${TOPICS.ordersCreated}&group=${group}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: { items: DeadLetter[]; nextCursor: string | null } = await call('GET', `${hostUrl}/api/v1/dead-letters?${query}`, undefined, token);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

function countBy(values: string[]): Record<string, number> {
  return values.reduce<Record<string, number>>((acc, value) => ({ ...acc, [value]: (acc[value] ?? 0) + 1 }), {});
}

async function deleteKeys(url: string, keyPrefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}:*`, 'COUNT', 1_000);
      if (keys.length > 0) await client.del(...keys);
      cursor = nextCursor;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
