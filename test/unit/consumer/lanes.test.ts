import { describe, expect, it } from 'vitest';
import { Lane, laneKeyOf, type LaneItem } from '../../../libs/broker/src/consumer/lanes.js';
import { unpackEntries, type LogEntry } from '../../../libs/broker/src/redis/packed-entries.js';
import { pack } from '../redis/pack.js';

const entry = (offset: number, fields: Array<string | Buffer>, bytes = 10): LogEntry => ({ id: `0-${offset + 1}`, offset, messageId: '', fields: fields.map((f) => Buffer.from(f)), bytes });
const item = (offset: number, source: 'log' | 'delay' = 'log', bytes = 10): LaneItem => ({ entry: entry(offset, [], bytes), source });

describe('laneKeyOf', () => {
  it("puts every message of a partition on one lane with ordering 'partition'", () => {
    expect(laneKeyOf('partition', entry(0, ['k', 'a']))).toBe(laneKeyOf('partition', entry(1, ['k', 'b'])));
  });

  it("puts messages with the same key on one lane with ordering 'key', from packed replies and plain fields alike", () => {
    const [packed] = unpackEntries(pack([['0-1', ['i', 'p:0:0', 'k', 'customer-7', 'v', 'x']]]));
    expect(laneKeyOf('key', packed)).toBe(laneKeyOf('key', entry(5, ['e', 's', 'k', 'customer-7'])));
    expect(laneKeyOf('key', packed)).not.toBe(laneKeyOf('key', entry(5, ['k', 'customer-8'])));
  });

  it('tells binary keys apart byte for byte', () => {
    const a = entry(0, ['k', Buffer.from([0xff, 0x00])]);
    const b = entry(1, ['k', Buffer.from([0xfe, 0x00])]);
    expect(laneKeyOf('key', a)).not.toBe(laneKeyOf('key', b));
  });

  it("gives each keyless message a lane of its own with ordering 'key', and every message with 'none'", () => {
    expect(laneKeyOf('key', entry(0, ['v', 'x']))).toBeUndefined();
    expect(laneKeyOf('none', entry(0, ['k', 'a']))).toBeUndefined();
  });

  it("never gives a key the partition's lane", () => {
    expect(laneKeyOf('key', entry(0, ['k', '']))).not.toBe(laneKeyOf('partition', entry(0, [])));
  });
});

describe('Lane', () => {
  it('hands out its items in the order queued', () => {
    const lane = new Lane('k');
    lane.push(item(3));
    lane.push(item(7));
    expect(lane.peek()?.entry.offset).toBe(3);
    lane.shift();
    expect(lane.peek()?.entry.offset).toBe(7);
    lane.shift();
    expect(lane.length).toBe(0);
  });

  it('takes a run of items from one source, within a count and a byte budget, at least one', () => {
    const lane = new Lane('');
    for (const i of [0, 1, 2, 3]) lane.push(item(i, 'log', 40));
    lane.push(item(4, 'delay'));
    expect(lane.peekRun(3, 1_000).map((i) => i.entry.offset)).toEqual([0, 1, 2]);
    expect(lane.peekRun(10, 100).map((i) => i.entry.offset)).toEqual([0, 1]);
    expect(lane.peekRun(10, 1).map((i) => i.entry.offset)).toEqual([0]);
    expect(lane.peekRun(10, 1_000).map((i) => i.entry.offset)).toEqual([0, 1, 2, 3]);
  });

  it('drops what is queued but keeps the item being handled', () => {
    const lane = new Lane('k');
    for (const i of [0, 1, 2]) lane.push(item(i));
    lane.busy = true;
    expect(lane.dropQueued().map((i) => i.entry.offset)).toEqual([1, 2]);
    expect(lane.length).toBe(1);
    lane.busy = false;
    expect(lane.dropQueued().map((i) => i.entry.offset)).toEqual([0]);
    expect(lane.length).toBe(0);
  });
});
