import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrokerConnectionError,
  ClosedError,
  InvalidArgumentError,
  InvalidNameError,
  MessageTooLargeError,
  PartitionOutOfRangeError,
  UnknownTopicError,
  partitionForKey,
  type Codec,
} from '@brook/broker';
import { decodeValue, readEntry } from '../../libs/broker/src/message/wire.js';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';
import { waitForReplicas } from '../support/redis-admin.js';

/** Reads a partition back with raw XRANGE, decoded the way consumers decode. */
async function readPartition(brookPrefix: string, topic: string, partition: number, redisUrl?: string) {
  const redis = rawRedis(redisUrl);
  const entries = (await redis.xrangeBuffer(`${brookPrefix}:{${topic}:${partition}}:log`, '-', '+')) as Array<[Buffer, Buffer[]]>;
  return entries.map(([id, fields]) => {
    const entry = readEntry(fields);
    return { offset: Number(id.toString().split('-')[1]) - 1, ...entry, value: decodeValue(entry, { name: 'json', encode: JSON.stringify, decode: (b) => JSON.parse(b.toString()) }) };
  });
}

async function setup(partitions = 4, options: Parameters<typeof createBrook>[0] = {}) {
  const brook = createBrook(options);
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions });
  return { brook, topic, prefix: brook.options.prefix };
}

describe('producer', () => {
  it('assigns dense offsets from 0 per partition and returns metadata in message order', async () => {
    const { brook, topic } = await setup(1);
    const producer = brook.producer();
    const first = await producer.send({ topic, messages: [{ value: { id: 1 } }, { value: { id: 2 } }, { value: { id: 3 } }] });
    expect(first.map((m) => m.offset)).toEqual([0, 1, 2]);
    expect(first.every((m) => m.topic === topic && m.partition === 0 && typeof m.timestamp === 'number')).toBe(true);
    const second = await producer.send({ topic, messages: [{ value: { id: 4 } }] });
    expect(second[0].offset).toBe(3);
  });

  it('partitions keyed messages exactly like Kafka (murmur2) and keeps their order per key', async () => {
    const { brook, topic, prefix } = await setup(6);
    const messages = Array.from({ length: 60 }, (_, i) => ({ key: `customer-${i % 7}`, value: { seq: i } }));
    const metadata = await brook.producer().send({ topic, messages });
    metadata.forEach((meta, i) => expect(meta.partition).toBe(partitionForKey(Buffer.from(messages[i].key), 6)));
    // The Java client puts 'customer-42' on partition 3 of 6.
    const [meta] = await brook.producer().send({ topic, messages: [{ key: 'customer-42', value: {} }] });
    expect(meta.partition).toBe(3);

    for (let p = 0; p < 6; p++) {
      const stored = await readPartition(prefix, topic, p);
      const perKey = new Map<string, number[]>();
      for (const entry of stored) if (entry.key !== 'customer-42') perKey.set(entry.key!, [...(perKey.get(entry.key!) ?? []), (entry.value as { seq: number }).seq]);
      for (const seqs of perKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('sticks keyless messages of one batch to one partition and moves on between batches', async () => {
    const { brook, topic } = await setup(8);
    const producer = brook.producer();
    const used = new Set<number>();
    for (let batch = 0; batch < 20; batch++) {
      const metadata = await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: i })) });
      expect(new Set(metadata.map((m) => m.partition)).size).toBe(1);
      used.add(metadata[0].partition);
    }
    expect(used.size).toBeGreaterThan(1);
  });

  it('honours an explicit partition and refuses one out of range before sending anything', async () => {
    const { brook, topic, prefix } = await setup(3);
    const producer = brook.producer();
    const [meta] = await producer.send({ topic, messages: [{ key: 'k', value: 1, partition: 2 }] });
    expect(meta.partition).toBe(2);
    for (const partition of [3, -1, 1.5, Number.NaN]) {
      await expect(producer.send({ topic, messages: [{ value: 'ok', partition: 0 }, { value: 2, partition }] })).rejects.toBeInstanceOf(PartitionOutOfRangeError);
    }
    await expect(producer.send({ topic, messages: [{ value: 2, partition: 3 }] })).rejects.toThrow(/numbered 0 to 2/);
    expect(await readPartition(prefix, topic, 0)).toEqual([]);
  });

  it('round-trips JSON values, strings, Buffers, keys, headers and timestamps', async () => {
    const { brook, topic, prefix } = await setup(1);
    const bytes = Buffer.from([0, 255, 128, 10, 13]);
    await brook.producer().send({
      topic,
      messages: [
        { key: 'k1', value: { nested: [1, 'two', null] }, headers: { source: 'api', 'trace-id': 'abc' }, timestamp: 1_764_000_000_000 },
        { value: 'plain text' },
        { key: Buffer.from('k3'), value: bytes },
        { value: null },
      ],
    });
    const stored = await readPartition(prefix, topic, 0);
    expect(stored.map(({ key, value, headers, timestamp }) => ({ key, value, headers, timestamp: timestamp === 1_764_000_000_000 }))).toEqual([
      { key: 'k1', value: { nested: [1, 'two', null] }, headers: { source: 'api', 'trace-id': 'abc' }, timestamp: true },
      { key: null, value: 'plain text', headers: {}, timestamp: false },
      { key: 'k3', value: bytes, headers: {}, timestamp: false },
      { key: null, value: null, headers: {}, timestamp: false },
    ]);
  });

  it('encodes values with a custom codec and records its name', async () => {
    const { brook, topic, prefix } = await setup(1);
    const upper: Codec = { name: 'upper', encode: (v) => String(v).toUpperCase(), decode: (b) => b.toString().toLowerCase() };
    await brook.producer({ codec: upper }).send({ topic, messages: [{ value: 42 }, { value: { a: 1 } }] });
    const redis = rawRedis();
    const entries = await redis.xrange(`${prefix}:{${topic}:0}:log`, '-', '+');
    const field = (fields: string[], name: string) => fields[fields.indexOf(name) + 1];
    expect(entries.map(([, fields]) => [field(fields, 'e'), field(fields, 'v')])).toEqual([
      ['upper', '42'],
      ['upper', '[OBJECT OBJECT]'],
    ]);
  });

  it('refuses bad messages with errors naming the value and the fix, writing nothing', async () => {
    const { brook, topic, prefix } = await setup(1);
    const producer = brook.producer();
    const bad: Array<[unknown, RegExp]> = [
      [{ value: undefined }, /has no value; send null/],
      [{ value: 1, key: 42 }, /key .* must be a string, Buffer or null; got number/],
      [{ value: 1, headers: { n: 1 } }, /Header 'n' .* must be a string; got number/],
      [{ value: 1, headers: ['x'] }, /headers .* must be an object/],
      [{ value: 1, timestamp: -1 }, /timestamp .* non-negative integer/],
      [{ value: () => 1 }, /cannot be encoded as JSON/],
    ];
    for (const [message, pattern] of bad) {
      const attempt = producer.send({ topic, messages: [{ value: 'fine' }, message as never] });
      await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(producer.send({ topic, messages: [{ value: 'fine' }, message as never] })).rejects.toThrow(pattern);
    }
    await expect(producer.send({ topic: 'bad name', messages: [] })).rejects.toBeInstanceOf(InvalidNameError);
    await expect(producer.send({ topic, messages: 'x' as never })).rejects.toThrow(/must be an array/);
    await expect(producer.send(null as never)).rejects.toThrow(/needs \{ topicMessages|send needs/);
    expect(await readPartition(prefix, topic, 0)).toEqual([]);
  });

  it('refuses a message over maxMessageBytes before sending any message of the call', async () => {
    const { brook, topic, prefix } = await setup(2);
    const producer = brook.producer({ maxMessageBytes: 1_000 });
    const send = producer.send({ topic, messages: [{ key: 'a', value: 'small' }, { key: 'b', value: 'x'.repeat(1_001) }] });
    await expect(send).rejects.toBeInstanceOf(MessageTooLargeError);
    await expect(producer.send({ topic, messages: [{ value: 'x'.repeat(995), key: 'k', headers: { a: 'b' } }] })).rejects.toThrow(/1005 bytes, over the producer's maxMessageBytes of 1000.*Split the payload/);
    expect([...(await readPartition(prefix, topic, 0)), ...(await readPartition(prefix, topic, 1))]).toEqual([]);
    await expect(brook.producer().send({ topic, messages: [{ value: 'x'.repeat(1_048_577) }] })).rejects.toThrow(/1048577 bytes/);
  });

  it('fails on unknown topics unless auto-creation is allowed', async () => {
    const brook = createBrook();
    const topic = uniqueName('auto');
    await expect(brook.producer().send({ topic, messages: [{ value: 1 }] })).rejects.toBeInstanceOf(UnknownTopicError);
    await expect(brook.producer().send({ topic, messages: [{ value: 1 }] })).rejects.toThrow(/allowAutoTopicCreation/);
    const [meta] = await brook.producer({ allowAutoTopicCreation: true, autoTopicPartitions: 3 }).send({ topic, messages: [{ value: 1 }] });
    expect(meta.offset).toBe(0);
    expect((await brook.admin().describeTopic(topic)).partitions).toHaveLength(3);
  });

  it('learns that a cached topic was deleted instead of recreating its log', async () => {
    const { brook, topic, prefix } = await setup(1);
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 1 }] });
    await createBrook({ prefix }).admin().deleteTopic(topic);
    await expect(producer.send({ topic, messages: [{ value: 2 }] })).rejects.toBeInstanceOf(UnknownTopicError);
    expect(await rawRedis().exists(`${prefix}:{${topic}:0}:log`)).toBe(0);
    await expect(producer.send({ topic, messages: [{ value: 3 }] })).rejects.toBeInstanceOf(UnknownTopicError);
  });

  it('sees partitions added by another process once its metadata is refreshed', async () => {
    const { brook, topic, prefix } = await setup(1, { metadataMaxAgeMs: 0 });
    const producer = brook.producer();
    await createBrook({ prefix }).admin().addPartitions(topic, 4);
    const metadata = await producer.send({ topic, messages: [{ value: 1, partition: 3 }] });
    expect(metadata[0].partition).toBe(3);
  });

  it('resolves acks: none without waiting for offsets', async () => {
    const { brook, topic } = await setup(1);
    const metadata = await brook.producer({ acks: 'none' }).send({ topic, messages: [{ value: 1 }] });
    expect(metadata[0].offset).toBe(-1);
    await brook.close();
  });

  it('rejects sends after close, and close settles every send in flight', async () => {
    const { brook, topic } = await setup(2);
    const producer = brook.producer();
    const inFlight = Array.from({ length: 20 }, (_, i) => producer.send({ topic, messages: [{ key: String(i), value: i }] }));
    await producer.close();
    const settled = await Promise.allSettled(inFlight);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    await expect(producer.send({ topic, messages: [{ value: 1 }] })).rejects.toBeInstanceOf(ClosedError);
    await brook.close();
    expect(() => brook.producer()).toThrow(ClosedError);
  });
});

describe('producer batching', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  async function evalshaCalls(): Promise<number> {
    const stats = await rawRedis(server.url).info('commandstats');
    return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0) + Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  it('appends a send of N messages with one script call per partition, not N', async () => {
    const brook = createBrook({ redis: server.url });
    const topic = uniqueName('batched');
    await brook.admin().createTopic({ topic, partitions: 4 });
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 'warm-up', partition: 0 }] });
    const before = await evalshaCalls();
    const metadata = await producer.send({ topic, messages: Array.from({ length: 1_000 }, (_, i) => ({ key: `k${i}`, value: i })) });
    expect(new Set(metadata.map((m) => m.partition)).size).toBe(4);
    expect((await evalshaCalls()) - before).toBe(4);
  });

  it('lets concurrent sends in the same tick share one flush', async () => {
    const brook = createBrook({ redis: server.url });
    const topic = uniqueName('coalesced');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 'warm-up' }] });
    const before = await evalshaCalls();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => producer.send({ topic, messages: [{ value: i }] })));
    expect(results.map(([m]) => m.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await evalshaCalls()) - before).toBe(1);
  });
});

describe('acks: all', () => {
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

  it('resolves once the replica confirmed, and the replica holds the messages', async () => {
    const brook = createBrook({ redis: leader.url });
    const topic = uniqueName('durable');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const metadata = await brook.producer({ acks: 'all', minInSyncReplicas: 1 }).send({ topic, messages: [{ value: 'a' }, { value: 'b' }] });
    expect(metadata.map((m) => m.offset)).toEqual([0, 1]);
    const onReplica = await rawRedis(replica.url).xlen(`${brook.options.prefix}:{${topic}:0}:log`);
    expect(onReplica).toBe(2);
  });

  it('reports leader and replica in describeTopic', async () => {
    const brook = createBrook({ redis: leader.url });
    const topic = uniqueName('topology');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const [partition] = (await brook.admin().describeTopic(topic)).partitions;
    expect(partition.leader).toBe(`127.0.0.1:${leader.port}`);
    expect(partition.replicas).toEqual([`127.0.0.1:${replica.port}`]);
  });

  it('refuses an acks: all write before appending anything when fewer replicas are in sync than required', async () => {
    const brook = createBrook({ redis: leader.url });
    const topic = uniqueName('undurable');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const send = brook.producer({ acks: 'all', minInSyncReplicas: 2, ackTimeoutMs: 200, deliveryTimeoutMs: 300 }).send({ topic, messages: [{ value: 'a' }] });
    await expect(send).rejects.toMatchObject({ name: 'NotEnoughReplicasError', code: 'NOT_ENOUGH_REPLICAS', acknowledged: 1, required: 2, written: false });
    await expect(send).rejects.toThrow(/nothing was written/);
    expect(await rawRedis(leader.url).xlen(`${brook.options.prefix}:{${topic}:0}:log`)).toBe(0);
  });

  it('rejects saying the write may still exist when the only replica is frozen and never confirms', async () => {
    const brook = createBrook({ redis: leader.url });
    const topic = uniqueName('frozen');
    await brook.admin().createTopic({ topic, partitions: 1 });
    replica.signal('SIGSTOP');
    try {
      const send = brook.producer({ acks: 'all', ackTimeoutMs: 300 }).send({ topic, messages: [{ value: 'a' }] });
      await expect(send).rejects.toMatchObject({ code: 'NOT_ENOUGH_REPLICAS', acknowledged: 0, written: true });
      await expect(send).rejects.toThrow(/may still exist/);
    } finally {
      replica.signal('SIGCONT');
    }
  });
});

describe('unreachable Redis', () => {
  it('fails with BrokerConnectionError after the configured retries, leaving nothing pending', async () => {
    const server = await RedisServer.start();
    const url = server.url;
    await server.stop();
    const brook = createBrook({ redis: url, connection: { retries: 2, initialBackoffMs: 10, maxBackoffMs: 20 } });
    const started = Date.now();
    await expect(brook.admin().createTopic({ topic: 'x', partitions: 1 })).rejects.toBeInstanceOf(BrokerConnectionError);
    await expect(brook.admin().listTopics()).rejects.toThrow(/unreachable .* after 2 reconnect attempt\(s\)/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await brook.close();
  });

  it('recovers when Redis comes back', async () => {
    const server = await RedisServer.start();
    try {
      const brook = createBrook({ redis: server.url, connection: { retries: 50, initialBackoffMs: 10, maxBackoffMs: 50 } });
      const topic = uniqueName('comeback');
      await brook.admin().createTopic({ topic, partitions: 1 });
      await server.kill();
      // The restarted server lost its data (no persistence): the topic is gone, and the producer says so.
      const pending = expect(brook.producer().send({ topic, messages: [{ value: 1 }] })).rejects.toBeInstanceOf(UnknownTopicError);
      await server.restart();
      await pending;
      await brook.admin().createTopic({ topic, partitions: 1 });
      await expect(brook.producer().send({ topic, messages: [{ value: 2 }] })).resolves.toMatchObject([{ offset: 0 }]);
    } finally {
      await server.stop();
    }
  });
});
