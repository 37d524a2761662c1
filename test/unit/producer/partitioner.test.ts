import { afterEach, describe, expect, it, vi } from 'vitest';
import { partitionForKey } from '../../../libs/broker/src/producer/murmur2.js';
import { Partitioner } from '../../../libs/broker/src/producer/partitioner.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Sends one keyless message to `topic` and returns its partition, as the producer does. */
function keyless(partitioner: Partitioner, topic: string, partitions: number): number {
  const partition = partitioner.partition(topic, null, partitions);
  partitioner.keylessQueued(topic);
  return partition;
}

describe('Partitioner: keyed messages', () => {
  it('puts a key where Kafka’s murmur2 partitioner would', () => {
    const partitioner = new Partitioner();
    for (const key of ['customer-1', 'customer-2', '21', 'foobar', '']) {
      const bytes = Buffer.from(key);
      expect(partitioner.partition('orders', bytes, 12)).toBe(partitionForKey(bytes, 12));
    }
  });

  it('puts the same key on the same partition every time, across batches', () => {
    const partitioner = new Partitioner();
    const key = Buffer.from('customer-42');
    const first = partitioner.partition('orders', key, 8);
    for (let i = 0; i < 20; i++) {
      partitioner.batchesCut();
      expect(partitioner.partition('orders', key, 8)).toBe(first);
    }
  });

  it('hashes a Uint8Array key like the Buffer of the same bytes', () => {
    const partitioner = new Partitioner();
    expect(partitioner.partition('t', new Uint8Array([1, 2, 3, 4, 5]), 9)).toBe(partitioner.partition('t', Buffer.from([1, 2, 3, 4, 5]), 9));
  });
});

describe('Partitioner: keyless messages stick to a partition', () => {
  it('keeps keyless messages on one partition until the batches are cut', () => {
    const partitioner = new Partitioner();
    const first = keyless(partitioner, 'events', 6);
    for (let i = 0; i < 50; i++) expect(keyless(partitioner, 'events', 6)).toBe(first);
  });

  it('moves on after a cut when the sticky partition got keyless messages', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const partitioner = new Partitioner();
    expect(keyless(partitioner, 'events', 4)).toBe(2);
    partitioner.batchesCut();
    expect(partitioner.partition('events', null, 4)).not.toBe(2);
  });

  it('stays after a cut when no keyless message joined the batch', () => {
    const partitioner = new Partitioner();
    const first = partitioner.partition('events', null, 6);
    partitioner.batchesCut();
    partitioner.batchesCut();
    expect(partitioner.partition('events', null, 6)).toBe(first);
  });

  it('moves only once per cut, however many messages were queued', () => {
    const partitioner = new Partitioner();
    const first = keyless(partitioner, 'events', 5);
    keyless(partitioner, 'events', 5);
    partitioner.batchesCut();
    const second = partitioner.partition('events', null, 5);
    partitioner.batchesCut();
    expect(partitioner.partition('events', null, 5)).toBe(second);
    expect(second).not.toBe(first);
  });

  it('never picks the same partition twice in a row when there are several, whatever random gives', () => {
    for (const partitions of [2, 3, 7]) {
      for (let start = 0; start < partitions; start++) {
        for (let step = 0; step < 100; step++) {
          const random = vi.spyOn(Math, 'random').mockReturnValue((start + 0.5) / partitions);
          const partitioner = new Partitioner();
          expect(keyless(partitioner, 't', partitions)).toBe(start);
          random.mockReturnValue(step / 100);
          partitioner.batchesCut();
          const next = partitioner.partition('t', null, partitions);
          expect(next).not.toBe(start);
          expect(next).toBeGreaterThanOrEqual(0);
          expect(next).toBeLessThan(partitions);
          random.mockRestore();
        }
      }
    }
  });

  it('reaches every other partition over many cuts', () => {
    const partitioner = new Partitioner();
    const seen = new Set<number>();
    let previous = keyless(partitioner, 't', 5);
    for (let i = 0; i < 500; i++) {
      partitioner.batchesCut();
      const next = keyless(partitioner, 't', 5);
      expect(next).not.toBe(previous);
      seen.add(next);
      previous = next;
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('stays on partition 0 of a single-partition topic', () => {
    const partitioner = new Partitioner();
    for (let i = 0; i < 10; i++) {
      expect(keyless(partitioner, 'solo', 1)).toBe(0);
      partitioner.batchesCut();
    }
  });

  it('moves each topic’s partition on its own', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.1);
    const partitioner = new Partitioner();
    expect(keyless(partitioner, 'used', 10)).toBe(1);
    expect(partitioner.partition('idle', null, 10)).toBe(1);
    partitioner.batchesCut();
    expect(partitioner.partition('used', null, 10)).not.toBe(1);
    expect(partitioner.partition('idle', null, 10)).toBe(1);
  });

  it('does not let keyed messages move the sticky partition', () => {
    const partitioner = new Partitioner();
    const first = partitioner.partition('t', null, 6);
    partitioner.partition('t', Buffer.from('k'), 6);
    partitioner.batchesCut();
    expect(partitioner.partition('t', null, 6)).toBe(first);
  });

  it('picks again within range when the topic has fewer partitions than the sticky one', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const partitioner = new Partitioner();
    expect(partitioner.partition('t', null, 10)).toBe(9);
    expect(partitioner.partition('t', null, 3)).toBe(2);
  });
});
