import { describe, expect, it } from 'vitest';
import { GroupActiveError, InvalidArgumentError, UnknownGroupError, type Brook } from '@brook/broker';
import { startConsumer } from '../consumer/helpers.js';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { createBrook, rawRedis, redisTimeMs, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';

async function appendTime(brook: Brook, topic: string, partition: number, offset: number): Promise<number> {
  const { messages } = await brook.admin().readMessages({ topic, partition, offset, limit: 1 });
  return messages[0].timestamp;
}

/** Describes the group and brackets the true age of a message appended at `appendedMs` with the Redis clock. */
async function lagSecondsAgainstTruth(brook: Brook, group: string, topic: string, partition: number, appendedMs: number) {
  const before = await redisTimeMs();
  const description = await brook.admin().describeGroup({ group, topic });
  const after = await redisTimeMs();
  return { measured: description.partitions[partition].lagSeconds!, low: (before - appendedMs) / 1_000, high: (after - appendedMs) / 1_000 };
}

describe('group lag in seconds', () => {
  it('measures the age of the oldest unfinished message within a second, pending, unread or waiting for a retry', async () => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 3 });
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const started: number[] = [];
    const { consumer } = await startConsumer(
      brook,
      topic,
      { group: 'billing', retry: { attempts: 3, mode: 'non-blocking', backoff: { type: 'fixed', initialMs: 60_000, maxMs: 60_000, jitter: 0 } } },
      async ({ partition, message }) => {
        started.push(partition);
        if (partition === 0) await stuck;
        if (partition === 2 && (message.value as { fail?: boolean }).fail) throw new Error('retry me later');
      },
    );
    // Partition 0: a message in flight; partition 1: finished; partition 2: one waiting for a retry.
    await brook.producer().send({ topic, messages: [{ value: { id: 0 }, partition: 0 }, { value: { id: 1 }, partition: 1 }, { value: { fail: true }, partition: 2 }] });
    await waitFor(async () => {
      const { partitions } = await brook.admin().describeGroup({ group: 'billing', topic });
      return started.includes(0) && partitions[1].lag === 0 && partitions[2].retrying === 1;
    }, { message: 'one message in flight, one finished, one retrying' });
    const appended = await Promise.all([0, 2].map((partition) => appendTime(brook, topic, partition, 0)));
    await waitForRedisTime(Math.max(...appended) + 2_500);

    for (const [i, partition] of [0, 2].entries()) {
      const { measured, low, high } = await lagSecondsAgainstTruth(brook, 'billing', topic, partition, appended[i]);
      expect(measured, `partition ${partition}`).toBeGreaterThanOrEqual(low - 1);
      expect(measured, `partition ${partition}`).toBeLessThanOrEqual(high + 1);
      expect(measured).toBeGreaterThanOrEqual(2.5);
    }
    expect((await brook.admin().describeGroup({ group: 'billing', topic })).partitions[1]).toMatchObject({ lag: 0, lagSeconds: 0 });

    // Unread: the group is stopped and a new message arrives.
    release();
    await waitFor(async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions[0].lag === 0, { message: 'partition 0 to finish' });
    expect((await brook.admin().describeGroup({ group: 'billing', topic })).partitions[0].lagSeconds).toBe(0);
    await consumer.stop();
    const [record] = await brook.producer().send({ topic, messages: [{ value: { id: 3 }, partition: 1 }] });
    const appendedUnread = await appendTime(brook, topic, 1, record.offset);
    await waitForRedisTime(appendedUnread + 1_500);
    const unread = await lagSecondsAgainstTruth(brook, 'billing', topic, 1, appendedUnread);
    expect(unread.measured).toBeGreaterThanOrEqual(unread.low - 1);
    expect(unread.measured).toBeLessThanOrEqual(unread.high + 1);

    // The group list sums the lag and reports the largest lag in seconds.
    const [listed] = await brook.admin().listGroups({ lag: true });
    expect(listed).toMatchObject({ group: 'billing', lag: 2 });
    expect(listed.lagSeconds).toBeGreaterThanOrEqual(2.5);
    expect((await brook.admin().listGroups())[0]).not.toHaveProperty('lag');
  });

  it('records lag samples in a history bounded by time and reads them back by range', async () => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 2 });
    const { consumer } = await startConsumer(brook, topic, { group: 'billing' });
    await waitFor(async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions.every((p) => p.lag === 0), { message: 'the group to position itself' });
    await consumer.stop();
    expect(await brook.admin().recordLagHistory()).toBe(1);
    await brook.producer().send({ topic, messages: [{ value: 1, partition: 1 }, { value: 2, partition: 1 }] });
    await brook.admin().recordLagHistory();

    const samples = await brook.admin().lagHistory({ group: 'billing', topic });
    expect(samples).toHaveLength(2);
    expect(samples[0]).toMatchObject({ lag: 0, lagSeconds: 0, partitions: [{ partition: 0, lag: 0, lagSeconds: 0 }, { partition: 1, lag: 0, lagSeconds: 0 }] });
    expect(samples[1]).toMatchObject({ lag: 2, partitions: [{ partition: 0, lag: 0 }, { partition: 1, lag: 2 }] });
    expect(samples[1].at).toBeGreaterThanOrEqual(samples[0].at);
    expect(Math.abs(samples[1].at - (await redisTimeMs()))).toBeLessThan(5_000);
    expect(await brook.admin().lagHistory({ group: 'billing', topic, limit: 1 })).toEqual([samples[1]]);
    expect(await brook.admin().lagHistory({ group: 'billing', topic, to: samples[0].at })).toEqual(samples[1].at === samples[0].at ? samples : [samples[0]]);
    expect(await brook.admin().lagHistory({ group: 'billing', topic, from: samples[1].at + 1 })).toEqual([]);
    await expect(brook.admin().lagHistory({ group: 'billing', topic, from: 2, to: 1 })).rejects.toThrow(InvalidArgumentError);
    await expect(brook.admin().lagHistory({ group: 'billing', topic, limit: 0 })).rejects.toThrow(/limit must be an integer from 1 to 10000/);
  });

  it('keeps only the last 24 hours of lag samples, by the Redis time in their IDs', async () => {
    const brook = createBrook();
    const redis = rawRedis();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const { consumer } = await startConsumer(brook, topic, { group: 'billing' });
    await consumer.stop();
    // Samples of more than a day ago, written directly; the next recorded sample trims them.
    const key = new KeySpace(brook.options.prefix).lagHistory('billing', topic);
    const now = await redisTimeMs();
    for (let i = 0; i < 300; i++) await redis.xadd(key, `${now - 90_000_000 + i}-0`, 'l', '1', 's', '0', 'n', '0', 'pl', '', 'ps', '');
    await brook.admin().recordLagHistory();
    const samples = await brook.admin().lagHistory({ group: 'billing', topic });
    // MINID ~ trims whole stream nodes (100 entries each by default): what is older than 24 h goes once its node is complete.
    expect(samples.filter((sample) => sample.at < now - 86_400_000).length).toBeLessThan(100);
    expect(samples.at(-1)!.at).toBeGreaterThanOrEqual(now);
  });
});

describe('deleting a group', () => {
  it('refuses while members are live unless forced, then removes every key of the group and audits it', async () => {
    const brook = createBrook();
    const redis = rawRedis();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 2 });
    const { consumer } = await startConsumer(brook, topic, { group: 'billing', retry: { attempts: 1 } }, ({ message }) => {
      if ((message.value as { fail?: boolean }).fail) throw new Error('no');
    });
    const shipping = await startConsumer(brook, topic, { group: 'shipping' });
    await brook.producer().send({ topic, messages: [{ value: { fail: true } }, { value: { id: 1 } }, { value: { id: 2 } }] });
    await waitFor(async () => (await brook.admin().deadLetters.count({ topic })).total === 1 && shipping.seen.length === 3, { message: 'a dead letter' });
    await brook.admin().recordLagHistory();

    await expect(brook.admin().deleteGroup({ group: 'billing' })).rejects.toThrow(GroupActiveError);
    await consumer.stop();
    const keysOf = async (group: string) => (await redis.keys(`${brook.options.prefix}:*`)).filter((key) => key.includes(`:${group}`) || key.includes(`__group:${group}}`));
    expect((await keysOf('billing')).length).toBeGreaterThan(0);

    const result = await brook.admin().deleteGroup({ group: 'billing', actor: 'ops' });

    expect(result).toMatchObject({ group: 'billing', topics: [topic] });
    expect(result.keysDeleted).toBeGreaterThan(0);
    expect(await keysOf('billing')).toEqual([]);
    for (const partition of [0, 1]) {
      const groups = (await redis.xinfo('GROUPS', `${brook.options.prefix}:{${topic}:${partition}}:log`)) as unknown[][];
      expect(groups.map((fields) => fields[1])).toEqual(['shipping']);
    }
    expect((await brook.admin().listGroups()).map((listing) => listing.group)).toEqual(['shipping']);
    await expect(brook.admin().describeGroup({ group: 'billing', topic })).rejects.toThrow(UnknownGroupError);
    await expect(brook.admin().deleteGroup({ group: 'billing' })).rejects.toThrow(UnknownGroupError);
    const [entry] = (await brook.admin().deadLetters.audit({ limit: 1 })).items;
    expect(entry).toMatchObject({ actor: 'ops', action: 'delete-group', group: 'billing', topic, result: { count: result.keysDeleted } });

    // Forced while live: the other group goes too.
    await brook.admin().deleteGroup({ group: 'shipping', force: true });
    await shipping.consumer.stop();
  });
});

describe('reading messages by time', () => {
  it('starts a page at the first message at or after a timestamp', async () => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await brook.producer().send({ topic, messages: [1_000, 2_000, 2_000, 3_000, 5_000].map((timestamp, id) => ({ value: { id }, timestamp })) });
    const from = async (timestamp: number) => (await brook.admin().readMessages({ topic, partition: 0, timestamp })).messages.map((m) => m.offset);
    expect(await from(0)).toEqual([0, 1, 2, 3, 4]);
    expect(await from(2_000)).toEqual([1, 2, 3, 4]);
    expect(await from(2_001)).toEqual([3, 4]);
    expect(await from(5_000)).toEqual([4]);
    expect(await brook.admin().readMessages({ topic, partition: 0, timestamp: 9_000 })).toEqual({ messages: [], nextOffset: 5 });
    await expect(brook.admin().readMessages({ topic, partition: 0, timestamp: 1, offset: 0 })).rejects.toThrow(/offset or timestamp, not both/);
    await expect(brook.admin().readMessages({ topic, partition: 0, timestamp: -1 })).rejects.toThrow(/timestamp must be an integer/);
  });
});
