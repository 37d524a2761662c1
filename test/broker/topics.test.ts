import { describe, expect, inject, it } from 'vitest';
import { InvalidArgumentError, InvalidNameError, TopicConflictError, UnknownTopicError } from '@brook/broker';
import { createBrook, rawRedis, uniqueName, waitForRedisTime } from '../support/brook.js';

describe('topics', () => {
  it('creates a topic with empty partitions whose offsets start at 0', async () => {
    const admin = createBrook().admin();
    const topic = uniqueName('orders.created');
    await expect(admin.createTopic({ topic, partitions: 3, retention: { maxMessages: 1_000, maxAgeMs: 60_000 } })).resolves.toBe(true);

    const description = await admin.describeTopic(topic);
    expect(description.topic).toBe(topic);
    expect(description.retention).toEqual({ maxMessages: 1_000, maxAgeMs: 60_000 });
    expect(description.partitions.map(({ partition, lowOffset, highOffset }) => ({ partition, lowOffset, highOffset }))).toEqual([
      { partition: 0, lowOffset: 0, highOffset: 0 },
      { partition: 1, lowOffset: 0, highOffset: 0 },
      { partition: 2, lowOffset: 0, highOffset: 0 },
    ]);
  });

  it('is idempotent for the same configuration and refuses a conflicting one', async () => {
    const admin = createBrook().admin();
    const topic = uniqueName('payments');
    expect(await admin.createTopic({ topic, partitions: 4 })).toBe(true);
    expect(await admin.createTopic({ topic, partitions: 4 })).toBe(false);

    await expect(admin.createTopic({ topic, partitions: 6 })).rejects.toThrow(TopicConflictError);
    await expect(admin.createTopic({ topic, partitions: 4, retention: { maxMessages: 10 } })).rejects.toThrow(/already exists with 4 partition/);
    expect((await admin.describeTopic(topic)).partitions).toHaveLength(4);
  });

  it('resolves concurrent creations of the same topic to exactly one creator', async () => {
    const topic = uniqueName('race');
    const results = await Promise.all(Array.from({ length: 5 }, () => createBrook({ prefix: 'shared-' + topic }).admin().createTopic({ topic, partitions: 2 })));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('lists topics sorted by name with their partition counts', async () => {
    const admin = createBrook().admin();
    await admin.createTopic({ topic: 'b-topic', partitions: 2 });
    await admin.createTopic({ topic: 'a-topic', partitions: 1 });
    expect(await admin.listTopics()).toEqual([
      { topic: 'a-topic', partitions: 1 },
      { topic: 'b-topic', partitions: 2 },
    ]);
  });

  it('grows partitions but never shrinks them', async () => {
    const admin = createBrook().admin();
    const topic = uniqueName('grow');
    await admin.createTopic({ topic, partitions: 2 });
    await admin.addPartitions(topic, 5);
    expect((await admin.describeTopic(topic)).partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4]);
    await admin.addPartitions(topic, 5);
    await expect(admin.addPartitions(topic, 3)).rejects.toThrow(/can only grow/);
    await expect(admin.addPartitions(topic, 3)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(admin.addPartitions(uniqueName('missing'), 3)).rejects.toBeInstanceOf(UnknownTopicError);
  });

  it('deletes a topic with its logs, after which it is unknown', async () => {
    const brook = createBrook();
    const admin = brook.admin();
    const topic = uniqueName('doomed');
    await admin.createTopic({ topic, partitions: 2 });
    await brook.producer().send({ topic, messages: [{ value: 1 }, { value: 2 }] });
    await admin.deleteTopic(topic);

    await expect(admin.describeTopic(topic)).rejects.toBeInstanceOf(UnknownTopicError);
    expect(await admin.listTopics()).toEqual([]);
    const redis = rawRedis();
    expect(await redis.keys(`${brook.options.prefix}:{${topic}:*`)).toEqual([]);
    await expect(admin.deleteTopic(topic)).rejects.toBeInstanceOf(UnknownTopicError);
  });

  it('refuses invalid names before touching Redis, naming the rule', async () => {
    const admin = createBrook({ redis: 'redis://127.0.0.1:1' }).admin();
    for (const topic of ['', '.', '..', '__internal', 'has space', 'a{b}', 'x'.repeat(201), 'ключ']) {
      await expect(admin.createTopic({ topic, partitions: 1 })).rejects.toBeInstanceOf(InvalidNameError);
    }
    await expect(admin.createTopic({ topic: '__x', partitions: 1 })).rejects.toThrow(/reserved/);
    await expect(admin.createTopic({ topic: 'a b', partitions: 1 })).rejects.toThrow(/A-Z, a-z, 0-9/);
    await expect(admin.createTopic({ topic: 'ok', partitions: 0 })).rejects.toThrow(/partitions must be an integer from 1/);
    await expect(admin.createTopic({ topic: 'ok', partitions: 1, retention: { maxAgeMs: -5 } })).rejects.toThrow(/retention.maxAgeMs/);
  });

  it('reports the standalone server as leader of every partition', async () => {
    const admin = createBrook().admin();
    const topic = uniqueName('leaders');
    await admin.createTopic({ topic, partitions: 2 });
    const port = new URL(inject('redisUrl')).port;
    for (const partition of (await admin.describeTopic(topic)).partitions) {
      expect(partition.leader).toMatch(new RegExp(`:${port}$`));
      expect(partition.replicas).toEqual([]);
    }
  });

  it('trims messages appended longer ago than maxAgeMs, by the Redis clock, and keeps offsets', async () => {
    const brook = createBrook();
    const admin = brook.admin();
    const topic = uniqueName('aged');
    await admin.createTopic({ topic, partitions: 1, retention: { maxAgeMs: 1_000 } });
    const [old] = await brook.producer().send({ topic, messages: [{ value: 'old-1' }, { value: 'old-2' }] });
    await waitForRedisTime(old.timestamp + 1_000);
    await brook.producer().send({ topic, messages: [{ value: 'new-1' }, { value: 'new-2' }] });
    expect(await admin.enforceRetention()).toEqual([{ topic, removed: 2 }]);
    const [partition] = (await admin.describeTopic(topic)).partitions;
    expect([partition.lowOffset, partition.highOffset]).toEqual([2, 4]);
    expect(await admin.enforceRetention()).toEqual([{ topic, removed: 0 }]);
  });

  it('keeps fresh messages whatever timestamps their producer gave them (a producer clock 2 minutes behind)', async () => {
    const brook = createBrook();
    const admin = brook.admin();
    const topic = uniqueName('skewed');
    await admin.createTopic({ topic, partitions: 1, retention: { maxAgeMs: 60_000 } });
    const behind = Date.now() - 120_000;
    await brook.producer().send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: i, timestamp: behind + i })) });
    expect(await admin.enforceRetention()).toEqual([{ topic, removed: 0 }]);
    const { messages } = await admin.readMessages({ topic, partition: 0 });
    expect(messages.map((m) => m.timestamp)).toEqual(Array.from({ length: 10 }, (_, i) => behind + i));
  });

  it('trims whole expired logs in bounded passes', async () => {
    const brook = createBrook();
    const admin = brook.admin();
    const topic = uniqueName('all-old');
    await admin.createTopic({ topic, partitions: 1, retention: { maxAgeMs: 1_000 } });
    const [first] = await brook.producer().send({ topic, messages: Array.from({ length: 12_345 }, (_, i) => ({ value: i })) });
    await waitForRedisTime(first.timestamp + 2_000);
    expect(await admin.enforceRetention()).toEqual([{ topic, removed: 12_345 }]);
    const [partition] = (await admin.describeTopic(topic)).partitions;
    expect([partition.lowOffset, partition.highOffset]).toEqual([12_345, 12_345]);
  });

  it('caps partition length near maxMessages as messages are written', async () => {
    const brook = createBrook();
    const topic = uniqueName('capped');
    await brook.admin().createTopic({ topic, partitions: 1, retention: { maxMessages: 500 } });
    const producer = brook.producer();
    for (let i = 0; i < 10; i++) await producer.send({ topic, messages: Array.from({ length: 200 }, (_, j) => ({ value: i * 200 + j })) });
    const [partition] = (await brook.admin().describeTopic(topic)).partitions;
    expect(partition.highOffset).toBe(2_000);
    // MAXLEN ~ trims whole stream nodes (100 entries by default), so the length lands a little above the cap.
    expect(partition.highOffset - partition.lowOffset).toBeGreaterThanOrEqual(500);
    expect(partition.highOffset - partition.lowOffset).toBeLessThanOrEqual(600);
  });
});
