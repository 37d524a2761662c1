import { describe, expect, it } from 'vitest';
import { HistoryRecorder, parseHistoryLine, RedisHistory, type HistoryEntry, type HistoryListClient } from '../../faults/support/history.js';

/** The list commands of RedisHistory over in-memory arrays. */
function fakeLists(): HistoryListClient & { lists: Map<string, string[]> } {
  const lists = new Map<string, string[]>();
  return {
    lists,
    async rpush(key, ...values) {
      const list = lists.get(key) ?? [];
      list.push(...values);
      lists.set(key, list);
      return list.length;
    },
    async lrange(key, start, stop) {
      const list = lists.get(key) ?? [];
      return list.slice(start, stop === -1 ? undefined : stop + 1);
    },
    async del(...keys) {
      return keys.filter((key) => lists.delete(key)).length;
    },
  };
}

const entries: HistoryEntry[] = [
  { kind: 'produced', uid: 'a', key: 'k', seq: 0, topic: 't', partition: 0, offset: 0, acks: 'all', acknowledged: true, at: 1, phase: 'before-fault' },
  { kind: 'run', uid: 'a', key: 'k', seq: 0, topic: 't', partition: 0, offset: 0, member: 'm1', attempt: 1, startedAt: 2, endedAt: 3, outcome: 'ok', leaseHolderAtEnd: null },
  { kind: 'skipped', partition: 0, from: 5, to: 9, count: 5 },
];

describe('RedisHistory', () => {
  it('reads back what child processes recorded, in append order, null lease holders included', async () => {
    const redis = fakeLists();
    const history = new RedisHistory(redis, 'test:history');
    for (const entry of entries) await history.record(entry);
    expect(await history.read()).toEqual(entries);
    await history.clear();
    expect(redis.lists.has('test:history')).toBe(false);
  });

  it('rejects a line that is not a history record, naming the list and index', () => {
    expect(() => parseHistoryLine('{"kind":"ack"}', 'h[3]')).toThrow(/history line h\[3\] has kind "ack"/);
    expect(() => parseHistoryLine('not json', 'h[0]')).toThrow(/history line h\[0\] is not JSON/);
  });
});

describe('HistoryRecorder', () => {
  it('keeps records in recording order and merges those read from Redis', () => {
    const recorder = new HistoryRecorder();
    recorder.record(entries[0]);
    recorder.recordAll(entries.slice(1));
    expect(recorder.entries).toEqual(entries);
  });
});
