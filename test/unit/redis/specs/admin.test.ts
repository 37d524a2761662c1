import { describe, expect, it } from 'vitest';
import { acquireController, groupOffsets, partitionOffsets, registerTopic, trimByAge } from '../../../../libs/broker/src/redis/specs/admin.js';

describe('partitionOffsets.parse', () => {
  it('reads existence, high and low offsets and length', () => {
    expect(partitionOffsets.parse([1, 120, 100, 20])).toEqual({ exists: true, highOffset: 120, lowOffset: 100, length: 20 });
    expect(partitionOffsets.parse([0, 0, 0, 0])).toMatchObject({ exists: false });
  });
});

describe('groupOffsets.parse', () => {
  it('reads a positioned group with its stats', () => {
    expect(groupOffsets.parse([1, 50, 10, 48, 2, 47, 'member-a:3', 4, 1, ['failed', 6, 'deadLettered', 1]])).toEqual({
      state: 1, highOffset: 50, lowOffset: 10, lastDeliveredSeq: 48, pending: 2, minPendingSeq: 47, owner: 'member-a:3',
      retrying: 4, deadLettered: 1, stats: new Map([['failed', 6], ['deadLettered', 1]]), oldestOffset: -1, oldestAppendMs: -1, nowMs: 0,
    });
  });

  it('reads the short reply of a partition without a log with neutral values', () => {
    expect(groupOffsets.parse([-1])).toEqual({
      state: -1, highOffset: 0, lowOffset: 0, lastDeliveredSeq: 0, pending: 0, minPendingSeq: -1, owner: '', retrying: 0, deadLettered: 0, stats: new Map(), oldestOffset: -1, oldestAppendMs: -1, nowMs: 0,
    });
  });
});

describe('trimByAge.parse', () => {
  it('reads what was removed and whether more is due', () => {
    expect(trimByAge.parse([500, 1])).toEqual({ removed: 500, more: true });
    expect(trimByAge.parse([3, 0])).toEqual({ removed: 3, more: false });
  });
});

describe('registerTopic.parse', () => {
  it('reads the status and the stored configuration', () => {
    expect(registerTopic.parse([Buffer.from('conflict'), Buffer.from('{"partitions":3}')])).toEqual({ status: 'conflict', config: '{"partitions":3}' });
  });
});

describe('acquireController.parse', () => {
  it('reads a held lease with its epoch', () => {
    expect(acquireController.parse([1, 4])).toEqual({ held: true, epoch: 4 });
  });

  it('reads someone else’s lease with its remaining time and holder', () => {
    expect(acquireController.parse([0, 5, 900, 'host-b'])).toEqual({ held: false, epoch: 5, remainingMs: 900, holder: 'host-b' });
  });
});
