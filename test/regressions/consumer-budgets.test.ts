import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Brook } from '@brook/broker';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';

const MESSAGE_BYTES = 1_000_000;
/**
 * Sized so that a script reading everything available at once (bounded by count only) runs past
 * the bound: on this kind of machine such a fetch copies about 60 MB a second, a claim about 60 MB.
 */
const PER_PARTITION = 40;
const PENDING = 100;
/** SLOWLOG records commands slower than this (µs); the assertion bound is far above it. */
const SLOWLOG_THRESHOLD_US = 100_000;
const LONGEST_ALLOWED_US = 1_000_000;

/** One SLOWLOG entry: id, unix time, duration (µs), arguments, … */
type SlowlogEntry = [number, number, number, string[], ...unknown[]];

/** The commands Redis logged as slow, longest first, as `<ms> ms: <command…>` for messages. */
async function slowCommands(url: string): Promise<Array<{ us: number; command: string }>> {
  const entries = (await rawRedis(url).call('SLOWLOG', 'GET', '128')) as SlowlogEntry[];
  return entries
    .map(([, , us, args]) => ({ us, command: args.slice(0, 6).map((arg) => String(arg).slice(0, 60)).join(' ') }))
    .sort((a, b) => b.us - a.us);
}

function largeMessages(partition: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({ partition, value: Buffer.alloc(MESSAGE_BYTES, i), headers: { n: `${partition}:${i}` } }));
}

/** Starts a consumer at default options that records `<partition>:<n>` of every message it handles. */
async function recordingConsumer(brook: Brook, topic: string) {
  const handled: string[] = [];
  const consumer = brook.consumer({ group: 'billing' });
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      handled.push(message.headers.n);
    },
  });
  return { consumer, handled };
}

describe('byte budgets with 1 MB messages at default options', () => {
  // SLOWLOG is server-wide: a private server keeps other test files' commands out of it.
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start({ args: ['--slowlog-log-slower-than', String(SLOWLOG_THRESHOLD_US), '--slowlog-max-len', '128'] });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('regression: one fetch of 1 MB messages froze Redis for seconds (fetch bounded by count, not bytes)', async () => {
    const brook = createBrook({ redis: server.url });
    const topic = uniqueName('images');
    await brook.admin().createTopic({ topic, partitions: 3 });
    const producer = brook.producer();
    for (const partition of [0, 1, 2]) await producer.send({ topic, messages: largeMessages(partition, PER_PARTITION) });
    await rawRedis(server.url).call('SLOWLOG', 'RESET');

    const { handled } = await recordingConsumer(brook, topic);
    await waitFor(() => handled.length >= 3 * PER_PARTITION, { message: 'every message to be handled', timeoutMs: 20_000 });

    expect(new Set(handled).size).toBe(3 * PER_PARTITION);
    expect(handled).toHaveLength(3 * PER_PARTITION);
    const slow = await slowCommands(server.url);
    expect(slow.filter(({ us }) => us > LONGEST_ALLOWED_US), `slowest commands: ${JSON.stringify(slow.slice(0, 5))}`).toEqual([]);
  });

  it('regression: taking over a killed member\'s pending 1 MB messages ran one script per whole pending list (claim bounded by count, not bytes)', async () => {
    const brook = createBrook({ redis: server.url });
    const keys = new KeySpace(brook.options.prefix);
    const topic = uniqueName('images');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await brook.producer().send({ topic, messages: largeMessages(0, PENDING) });
    // A member that read them all and was killed: they are pending under its token, its lease runs out.
    const redis = rawRedis(server.url);
    const log = keys.log(topic, 0);
    await redis.call('XGROUP', 'CREATE', log, 'billing', '0');
    // Read inside a script, so the messages stay in Redis.
    await redis.eval("redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>') return 0", 1, log, 'billing', 'killed-member:1', PENDING);
    expect((await redis.xpending(log, 'billing'))[0]).toBe(PENDING);
    await redis.set(keys.lease(topic, 0, 'billing'), 'killed-member:1', 'PX', 300);
    await redis.call('SLOWLOG', 'RESET');

    const { handled } = await recordingConsumer(brook, topic);
    await waitFor(() => handled.length >= PENDING, { message: 'the pending messages to be taken over and handled', timeoutMs: 20_000 });

    expect(handled).toEqual(Array.from({ length: PENDING }, (_, i) => `0:${i}`));
    const slow = await slowCommands(server.url);
    expect(slow.filter(({ us }) => us > LONGEST_ALLOWED_US), `slowest commands: ${JSON.stringify(slow.slice(0, 5))}`).toEqual([]);
  });
});

describe('retention gaps', () => {
  it('regression: a retention gap of 50 M offsets cost one number per skipped offset and exhausted the heap', async () => {
    const brook = createBrook();
    const keys = new KeySpace(brook.options.prefix);
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 'first' }] });
    const consumer = brook.consumer({ group: 'billing', sessionTimeoutMs: 1_000, heartbeatIntervalMs: 50, maxWaitTimeMs: 1_000 });
    const handled: number[] = [];
    const skipped: unknown[] = [];
    consumer.on('skipped', (event) => skipped.push(event));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        handled.push(message.offset);
      },
    });
    await waitFor(() => handled.length === 1, { message: 'offset 0 to be handled' });

    // As if retention had removed offsets 1 … 50,000,000 before the group read them.
    await rawRedis().call('XSETID', keys.log(topic, 0), '0-50000001', 'ENTRIESADDED', '50000001', 'MAXDELETEDID', '0-50000001');
    const heapBefore = process.memoryUsage().heapUsed;
    const [{ offset }] = await producer.send({ topic, messages: [{ value: 'after the gap' }] });
    expect(offset).toBe(50_000_001);
    await waitFor(() => handled.length === 2, { message: 'the message after the gap to be handled' });
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;

    expect(handled).toEqual([0, 50_000_001]);
    expect(skipped).toEqual([{ topic, partition: 0, reason: 'retention', from: 1, to: 50_000_000, count: 50_000_000 }]);
    await waitFor(async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions[0].counters.skipped === 50_000_000, {
      message: "the group's skipped counter to say 50,000,000",
    });
    expect(heapGrowth).toBeLessThan(20 * 1024 * 1024);
  });
});
