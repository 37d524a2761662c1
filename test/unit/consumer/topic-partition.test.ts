import { describe, expect, it } from 'vitest';
import { groupByTopic, parsePartitionKey, partitionKey } from '../../../libs/broker/src/consumer/topic-partition.js';

describe('partition keys', () => {
  it('spells a partition as topic:partition', () => {
    expect(partitionKey('orders', 3)).toBe('orders:3');
  });

  it('parses a key back into topic and numeric partition', () => {
    expect(parsePartitionKey(partitionKey('orders.v2_eu-west', 12))).toEqual({ topic: 'orders.v2_eu-west', partition: 12 });
  });
});

describe('groupByTopic', () => {
  it('groups partitions under their topic, topics and partitions sorted', () => {
    const grouped = groupByTopic([
      { topic: 'payments', partition: 2 },
      { topic: 'orders', partition: 10 },
      { topic: 'payments', partition: 0 },
      { topic: 'orders', partition: 9 },
      { topic: 'orders', partition: 1 },
    ]);
    expect(grouped).toEqual([
      { topic: 'orders', partitions: [1, 9, 10] },
      { topic: 'payments', partitions: [0, 2] },
    ]);
  });

  it('sorts topics by code unit, not by locale', () => {
    expect(groupByTopic([{ topic: 'b', partition: 0 }, { topic: 'B', partition: 0 }, { topic: 'a', partition: 0 }]).map((g) => g.topic)).toEqual(['B', 'a', 'b']);
  });

  it('returns nothing for no partitions', () => {
    expect(groupByTopic([])).toEqual([]);
  });

  it('accepts any iterable', () => {
    const set = new Set([{ topic: 't', partition: 1 }, { topic: 't', partition: 0 }]);
    expect(groupByTopic(set)).toEqual([{ topic: 't', partitions: [0, 1] }]);
  });
});
