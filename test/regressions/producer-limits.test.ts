import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidTimestampError, NotEnoughReplicasError, ProducerFencedError, ProducerQueueFullError, RedisOutOfMemoryError, type Brook } from '@brook/broker';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { readEntry } from '../../libs/broker/src/message/wire.js';
import { createBrook, rawRedis, redisTimeMs, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';
import { waitForReplicas } from '../support/redis-admin.js';
import { RedisServer } from '../support/redis-server.js';

/** Values and stored timestamps of a partition log, read straight from Redis. */
async function readLog(brook: Brook, topic: string, partition = 0, url?: string) {
  const log = new KeySpace(brook.options.prefix).log(topic, partition);
  const entries = (await rawRedis(url).xrangeBuffer(log, '-', '+')) as Array<[Buffer, Buffer[]]>;
  return entries.map(([, fields]) => {
    const entry = readEntry(fields);
    return { value: entry.value.toString(), timestamp: entry.timestamp };
  });
}

async function newTopic(brook: Brook, partitions = 1): Promise<string> {
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions });
  return topic;
}

describe('a stable producerId', () => {
  it('fences the older instance once a newer one wrote: its next send rejects with ProducerFencedError and appends nothing', async () => {
    const brook = createBrook();
    const topic = await newTopic(brook, 2);
    const older = brook.producer({ producerId: 'orders-api' });
    await older.send({ topic, messages: [{ value: 'older-1', partition: 0 }] });

    // A second instance, as after a restart or a redeploy that overlapped the old process.
    const newer = createBrook({ prefix: brook.options.prefix }).producer({ producerId: 'orders-api' });
    await expect(newer.send({ topic, messages: [{ value: 'newer-1', partition: 0 }] })).resolves.toMatchObject([{ offset: 1 }]);

    const refused = older.send({ topic, messages: [{ value: 'older-2', partition: 0 }] });
    await expect(refused).rejects.toBeInstanceOf(ProducerFencedError);
    await expect(refused).rejects.toMatchObject({ code: 'PRODUCER_FENCED', producerId: 'orders-api', epoch: 1, newerEpoch: 2 });
    // Once fenced it sends nowhere, also to partitions the newer instance has not written to yet.
    await expect(older.send({ topic, messages: [{ value: 'older-3', partition: 1 }] })).rejects.toMatchObject({ code: 'PRODUCER_FENCED' });

    await expect(newer.send({ topic, messages: [{ value: 'newer-2', partition: 0 }] })).resolves.toMatchObject([{ offset: 2 }]);
    expect((await readLog(brook, topic, 0)).map((m) => m.value)).toEqual(['older-1', 'newer-1', 'newer-2']);
    expect(await readLog(brook, topic, 1)).toEqual([]);
  });

  it('lets producers with different ids write to the same partition side by side', async () => {
    const brook = createBrook();
    const topic = await newTopic(brook);
    const producers = [brook.producer({ producerId: 'billing' }), createBrook({ prefix: brook.options.prefix }).producer({ producerId: 'shipping' }), brook.producer()];
    for (let round = 0; round < 3; round++) {
      await Promise.all(producers.map((producer, i) => producer.send({ topic, messages: [{ value: `p${i}-${round}` }] })));
    }
    const values = (await readLog(brook, topic)).map((m) => m.value);
    expect(values).toHaveLength(9);
    for (let i = 0; i < 3; i++) expect(values.filter((v) => v.startsWith(`p${i}-`))).toEqual([`p${i}-0`, `p${i}-1`, `p${i}-2`]);
  });
});

describe('producer back-pressure', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('regression: the producer queued without bound while Redis was slow; past maxQueuedBytes a send rejects at once with ProducerQueueFullError', async () => {
    const brook = createBrook({ redis: server.url, connection: { commandTimeoutMs: 20_000 } });
    const topic = await newTopic(brook);
    const producer = brook.producer({ maxQueuedBytes: 1_000, deliveryTimeoutMs: 30_000 });
    await producer.send({ topic, messages: [{ value: 'warm-up' }] });

    server.signal('SIGSTOP');
    try {
      let firstSettled = false;
      const first = producer.send({ topic, messages: [{ value: 'a'.repeat(600) }] });
      void first.finally(() => (firstSettled = true)).catch(() => undefined);
      // Two turns of the event loop: the first send's batch is cut and in flight to the frozen server.
      for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));

      const started = performance.now();
      const over = producer.send({ topic, messages: [{ value: 'b'.repeat(600) }] });
      await expect(over).rejects.toBeInstanceOf(ProducerQueueFullError);
      await expect(over).rejects.toMatchObject({ code: 'QUEUE_FULL', queuedBytes: 600, maxQueuedBytes: 1_000, retriable: true });
      await expect(producer.send({ topic, messages: [{ value: 'c'.repeat(401) }] })).rejects.toMatchObject({ code: 'QUEUE_FULL' });
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(firstSettled).toBe(false);

      server.signal('SIGCONT');
      await expect(first).resolves.toMatchObject([{ offset: 1 }]);
    } finally {
      server.signal('SIGCONT');
    }
    // With the queue drained, sends are taken again; the refused ones were never written.
    await expect(producer.send({ topic, messages: [{ value: 'after' }] })).resolves.toMatchObject([{ offset: 2 }]);
    expect((await readLog(brook, topic, 0, server.url)).map((m) => m.value[0])).toEqual(['w', 'a', 'a']);
  });
});

describe('message timestamps', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('refuses a send timestamped 2 hours ahead with InvalidTimestampError and writes nothing of it, while other sends of the same batch are written', async () => {
    const brook = createBrook();
    const topic = await newTopic(brook);
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 'warm-up' }] });
    const future = (await redisTimeMs()) + 2 * 3_600_000;

    // Sent in one turn of the event loop: one batch for the partition.
    const before = producer.send({ topic, messages: [{ value: 'before' }] });
    const bad = producer.send({ topic, messages: [{ value: 'fine-but-same-send' }, { value: 'future', timestamp: future }] });
    const after = producer.send({ topic, messages: [{ value: 'after' }] });

    await expect(bad).rejects.toBeInstanceOf(InvalidTimestampError);
    await expect(bad).rejects.toMatchObject({ code: 'INVALID_TIMESTAMP', timestamp: future });
    await expect(before).resolves.toMatchObject([{ offset: 1 }]);
    await expect(after).resolves.toMatchObject([{ offset: 2 }]);
    expect((await readLog(brook, topic)).map((m) => m.value)).toEqual(['warm-up', 'before', 'after']);
  });

  it('stamps a message without a timestamp with the Redis clock, whatever the producer\'s clock says', async () => {
    const brook = createBrook();
    const topic = await newTopic(brook);
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 'warm-up' }] });

    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
    const from = await redisTimeMs();
    const [metadata] = await producer.send({ topic, messages: [{ value: 'stamped' }] });
    const to = await redisTimeMs();

    const stored = (await readLog(brook, topic)).find((m) => m.value === 'stamped')!;
    expect(stored.timestamp).toBeGreaterThanOrEqual(from);
    expect(stored.timestamp).toBeLessThanOrEqual(to);
    expect(metadata.timestamp).toBe(stored.timestamp);
  });
});

describe("acks: 'all' with the only replica down", () => {
  let leader: RedisServer;
  let replica: RedisServer;
  beforeAll(async () => {
    leader = await RedisServer.start();
    replica = await RedisServer.start({ replicaOf: leader });
    await waitForReplicas(leader, 1);
  });
  afterAll(async () => {
    await replica.stop();
    await leader.stop();
  });

  it("regression: acks 'all' appended before it knew the replicas were short; it refuses with NotEnoughReplicasError written: false and the log is unchanged", async () => {
    const brook = createBrook({ redis: leader.url });
    const topic = await newTopic(brook);
    const producer = brook.producer({ acks: 'all', minInSyncReplicas: 1, ackTimeoutMs: 10_000, deliveryTimeoutMs: 500 });
    await expect(producer.send({ topic, messages: [{ value: 'replicated' }] })).resolves.toMatchObject([{ offset: 0 }]);

    await replica.kill();
    await waitForReplicas(leader, 0);
    const refused = producer.send({ topic, messages: [{ value: 'unreplicated' }] });
    await expect(refused).rejects.toBeInstanceOf(NotEnoughReplicasError);
    await expect(refused).rejects.toMatchObject({ code: 'NOT_ENOUGH_REPLICAS', written: false, acknowledged: 0, required: 1 });
    expect((await readLog(brook, topic, 0, leader.url)).map((m) => m.value)).toEqual(['replicated']);

    // Retried until deliveryTimeoutMs, as Kafka retries NOT_ENOUGH_REPLICAS: a replica that comes
    // back in time lets the send through, written once.
    const patient = brook.producer({ acks: 'all', minInSyncReplicas: 1, ackTimeoutMs: 10_000, deliveryTimeoutMs: 30_000 });
    const waiting = patient.send({ topic, messages: [{ value: 'after the replica is back' }] });
    await replica.restart();
    await expect(waiting).resolves.toMatchObject([{ offset: 1 }]);
    expect((await readLog(brook, topic, 0, leader.url)).map((m) => m.value)).toEqual(['replicated', 'after the replica is back']);
  });
});

describe('Redis over maxmemory', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start({ args: ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction'] });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('regression: under maxmemory the heartbeat failed and members lost every lease; sends fail clearly and write nothing, while the consumer keeps its leases and acknowledges', async () => {
    const brook = createBrook({ redis: server.url });
    const topic = await newTopic(brook, 2);
    const keys = new KeySpace(brook.options.prefix);
    const redis = rawRedis(server.url);
    const producer = brook.producer({ deliveryTimeoutMs: 1_000 });
    await producer.send({ topic, messages: [0, 1].flatMap((partition) => [{ value: `${partition}-a`, partition }, { value: `${partition}-b`, partition }]) });

    const sessionTimeoutMs = 1_000;
    const consumer = brook.consumer({ group: 'billing', sessionTimeoutMs, heartbeatIntervalMs: 50, maxWaitTimeMs: 500 });
    const lost: unknown[] = [];
    const revoked: unknown[] = [];
    consumer.on('partition.lost', (event) => lost.push(event));
    consumer.on('rebalance', ({ revoked: partitions }) => revoked.push(...partitions));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    const handled: string[] = [];
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: 2,
      eachMessage: async ({ message }) => {
        if (message.value === '0-b') {
          holding = true;
          await gate;
        }
        handled.push(String(message.value));
      },
    });
    const pending = (partition: number) => redis.xpending(keys.log(topic, partition), 'billing') as Promise<[number, ...unknown[]]>;
    await waitFor(async () => holding && handled.length === 3 && (await pending(0))[0] === 1 && (await pending(1))[0] === 0, { message: 'every message but 0-b to be acknowledged' });
    const leases = () => Promise.all([0, 1].map((partition) => redis.get(keys.lease(topic, partition, 'billing'))));
    const leasesBefore = await leases();
    expect(leasesBefore.every((token) => token !== null)).toBe(true);

    try {
      // One big value made inside Redis: as an argument, its query buffer alone would count against the limit and be refused.
      await redis.eval("redis.call('SET', KEYS[1], string.rep('x', tonumber(ARGV[1])))", 1, 'filler', 3 * 1_048_576);
      const memory = await redis.info('memory');
      expect(Number(/used_memory:(\d+)/.exec(memory)?.[1])).toBeGreaterThan(Number(/maxmemory:(\d+)/.exec(memory)?.[1]));

      const refused = producer.send({ topic, messages: [{ value: 'oom', partition: 0 }] });
      // Redis refuses the produce script before it runs (it declares no allow-oom), so nothing is half-appended.
      await expect(refused).rejects.toBeInstanceOf(RedisOutOfMemoryError);
      await expect(refused).rejects.toMatchObject({ code: 'OUT_OF_MEMORY', retriable: true });
      await expect(refused).rejects.toThrow(/Could not send to partition 0 .*maxmemory and refused the write \(nothing was written\)/);
      expect(await redis.xlen(keys.log(topic, 0))).toBe(2);

      // Several session timeouts on the Redis clock: leases and the session must be renewed throughout.
      await waitForRedisTime((await redisTimeMs(server.url)) + 3 * sessionTimeoutMs, server.url);
      expect({ lost, revoked, leases: await leases() }).toEqual({ lost: [], revoked: [], leases: leasesBefore });

      release();
      await waitFor(async () => handled.includes('0-b') && (await pending(0))[0] === 0, { message: '0-b to be acknowledged under maxmemory' });
      expect(lost).toEqual([]);
    } finally {
      release();
      await redis.del('filler');
    }
  });
});
