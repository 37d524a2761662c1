import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidNameError, PartitionOutOfRangeError, UnknownTopicError } from '@brook/broker';
import { createBrook, rawRedis, uniqueName } from '../support/brook.js';

async function topicWith(partitions = 1) {
  const brook = createBrook();
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions });
  return { brook, admin: brook.admin(), topic };
}

describe('reading messages', () => {
  it('returns a page of a partition from an offset, with key, headers, timestamp and the value as stored', async () => {
    const { brook, admin, topic } = await topicWith();
    await brook.producer().send({
      topic,
      messages: [
        { key: 'a', value: { id: 1 }, headers: { trace: 't1' }, timestamp: 1_000 },
        { key: null, value: 'plain text', timestamp: 2_000 },
        { key: 'c', value: Buffer.from([0, 255, 7]), timestamp: 3_000 },
        { value: null, timestamp: 4_000 },
      ],
    });

    const page = await admin.readMessages({ topic, partition: 0, offset: 0, limit: 10 });
    expect(page).toEqual({
      messages: [
        { offset: 0, key: 'a', value: { id: 1 }, headers: { trace: 't1' }, timestamp: 1_000, encoding: 'json' },
        { offset: 1, key: null, value: 'plain text', headers: {}, timestamp: 2_000, encoding: 's' },
        { offset: 2, key: 'c', value: Buffer.from([0, 255, 7]), headers: {}, timestamp: 3_000, encoding: 'b' },
        { offset: 3, key: null, value: null, headers: {}, timestamp: 4_000, encoding: 'json' },
      ],
      nextOffset: 4,
    });
    const second = await admin.readMessages({ topic, partition: 0, offset: 1, limit: 2 });
    expect(second.messages.map((m) => m.offset)).toEqual([1, 2]);
    expect(second.nextOffset).toBe(3);
    expect(await admin.readMessages({ topic, partition: 0, offset: 4 })).toEqual({ messages: [], nextOffset: 4 });
  });

  it('pages through a partition without touching any group', async () => {
    const { brook, admin, topic } = await topicWith();
    await brook.producer().send({ topic, messages: Array.from({ length: 25 }, (_, i) => ({ value: i })) });
    const seen: unknown[] = [];
    let offset = 0;
    for (;;) {
      const page = await admin.readMessages({ topic, partition: 0, offset, limit: 10 });
      if (page.messages.length === 0) break;
      seen.push(...page.messages.map((m) => m.value));
      offset = page.nextOffset;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(await admin.listGroups()).toEqual([]);
  });

  it('starts at the oldest message still stored when the offset was removed by retention', async () => {
    const { brook, admin, topic } = await topicWith();
    await brook.producer().send({ topic, messages: Array.from({ length: 5 }, (_, i) => ({ value: i })) });
    await rawRedis().xtrim(`${brook.options.prefix}:{${topic}:0}:log`, 'MINID', '0-4');
    const page = await admin.readMessages({ topic, partition: 0, offset: 0 });
    expect(page.messages.map((m) => m.offset)).toEqual([3, 4]);
  });

  it('shows JSON that does not parse as its raw bytes', async () => {
    const { brook, admin, topic } = await topicWith();
    await rawRedis().xadd(`${brook.options.prefix}:{${topic}:0}:log`, '0-1', 't', '5', 'e', 'json', 'v', '{not json');
    const [message] = (await admin.readMessages({ topic, partition: 0 })).messages;
    expect(message).toMatchObject({ offset: 0, encoding: 'json', value: Buffer.from('{not json') });
  });

  it('refuses unknown topics, partitions out of range and unbounded or negative pages', async () => {
    const { admin, topic } = await topicWith(2);
    await expect(admin.readMessages({ topic: uniqueName('missing'), partition: 0 })).rejects.toBeInstanceOf(UnknownTopicError);
    await expect(admin.readMessages({ topic, partition: 2 })).rejects.toBeInstanceOf(PartitionOutOfRangeError);
    await expect(admin.readMessages({ topic: '../x', partition: 0 })).rejects.toBeInstanceOf(InvalidNameError);
    for (const limit of [0, 1_001, -1, 1.5, Number.NaN]) {
      await expect(admin.readMessages({ topic, partition: 0, limit })).rejects.toThrow(/limit must be an integer from 1 to 1000/);
    }
    for (const offset of [-1, 0.5, Number.MAX_SAFE_INTEGER]) {
      await expect(admin.readMessages({ topic, partition: 0, offset })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(admin.readMessages({ topic, partition: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(admin.readMessages(null as never)).rejects.toThrow(/readMessages needs/);
  });
});
