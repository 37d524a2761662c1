import { describe, expect, it } from 'vitest';
import { produce, type ProduceInput } from '../../../../libs/broker/src/redis/specs/produce.js';

const b = (s: string) => Buffer.from(s);

describe('produce.parse', () => {
  it('reads ok with the first offset, append time, gap start and replication id', () => {
    expect(produce.parse(['ok', 10, 1_700_000_000_000, -1, 'abc123:555'])).toEqual({
      status: 'ok', firstOffset: 10, appendMs: 1_700_000_000_000, gapFrom: -1, replicationId: 'abc123:555',
    });
  });

  it('reads a missing replication id as empty', () => {
    expect(produce.parse(['ok', 0, 5, -1])).toMatchObject({ replicationId: '' });
  });

  it('reads duplicate with the original offsets', () => {
    expect(produce.parse([b('duplicate'), b('4'), b('99'), b('r:1')])).toEqual({ status: 'duplicate', firstOffset: 4, appendMs: 99, replicationId: 'r:1' });
  });

  it('reads the refusals with their detail', () => {
    expect(produce.parse(['fenced', 3])).toEqual({ status: 'fenced', epoch: 3 });
    expect(produce.parse(['gone'])).toEqual({ status: 'gone' });
    expect(produce.parse(['not-enough-replicas', 0])).toEqual({ status: 'not-enough-replicas', inSync: 0 });
    expect(produce.parse(['invalid-timestamp', 2, 1_000, 9_000_000])).toEqual({ status: 'invalid-timestamp', index: 2, timestamp: 1_000, nowMs: 9_000_000 });
    expect(produce.parse(['out-of-order', 41])).toEqual({ status: 'out-of-order', lastSeq: 41 });
  });

  it('throws on a status produce never answers', () => {
    expect(() => produce.parse(['stale'])).toThrow(/answered with status 'stale', which it never sends/);
    expect(() => produce.parse(['nope'])).toThrow(/unknown status "nope"/);
  });
});

describe('produce.args', () => {
  const input: ProduceInput = {
    topic: 'orders', partition: 0, producerId: 'p', epoch: 2, baseSeq: 10, maxLen: 0, timeIndex: true, minInSync: 1, aheadMs: -1, behindMs: 60_000,
    messages: [
      { timestamp: null, fields: ['e', 's', 'v', 'a'] },
      { timestamp: 1_700_000_000_000, fields: ['e', 's', 'v', 'b'] },
    ],
  };

  it('sends the batch header, then per message its timestamp (empty for the append time), field count and fields', () => {
    expect(produce.args(input)).toEqual([
      'p', 2, 10, 0, '1', 1, -1, 60_000, 2,
      '', 4, 'e', 's', 'v', 'a',
      1_700_000_000_000, 4, 'e', 's', 'v', 'b',
    ]);
  });

  it('sends the time index flag as "0" when off', () => {
    expect(produce.args({ ...input, timeIndex: false })[4]).toBe('0');
  });
});
