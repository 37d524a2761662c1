import { describe, expect, it, vi } from 'vitest';
import { RebalanceNotes } from '../../../libs/broker/src/consumer/rebalance-notes.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RebalanceNotes', () => {
  it('reports everything added in one turn of the event loop as one event', async () => {
    const report = vi.fn();
    const notes = new RebalanceNotes(report);
    notes.add('assigned', { topic: 'orders', partition: 2 });
    notes.add('assigned', { topic: 'orders', partition: 0 });
    notes.add('revoked', { topic: 'payments', partition: 1 });
    notes.add('assigned', { topic: 'audit', partition: 5 });
    expect(report).not.toHaveBeenCalled();
    await nextTurn();
    expect(report).toHaveBeenCalledTimes(1);
    expect(report).toHaveBeenCalledWith({
      assigned: [{ topic: 'audit', partitions: [5] }, { topic: 'orders', partitions: [0, 2] }],
      revoked: [{ topic: 'payments', partitions: [1] }],
    });
  });

  it('reports changes of different turns as separate events', async () => {
    const report = vi.fn();
    const notes = new RebalanceNotes(report);
    notes.add('assigned', { topic: 't', partition: 0 });
    await nextTurn();
    notes.add('revoked', { topic: 't', partition: 0 });
    await nextTurn();
    expect(report.mock.calls).toEqual([
      [{ assigned: [{ topic: 't', partitions: [0] }], revoked: [] }],
      [{ assigned: [], revoked: [{ topic: 't', partitions: [0] }] }],
    ]);
  });

  it('reports at once on flush and not again when the turn ends', async () => {
    const report = vi.fn();
    const notes = new RebalanceNotes(report);
    notes.add('revoked', { topic: 't', partition: 3 });
    notes.flush();
    expect(report).toHaveBeenCalledTimes(1);
    await nextTurn();
    expect(report).toHaveBeenCalledTimes(1);
  });

  it('reports nothing on a flush with nothing collected', async () => {
    const report = vi.fn();
    const notes = new RebalanceNotes(report);
    notes.flush();
    await nextTurn();
    expect(report).not.toHaveBeenCalled();
  });

  it('reports a change added after a flush in the same turn', async () => {
    const report = vi.fn();
    const notes = new RebalanceNotes(report);
    notes.add('assigned', { topic: 't', partition: 0 });
    notes.flush();
    notes.add('assigned', { topic: 't', partition: 1 });
    await nextTurn();
    await nextTurn();
    expect(report.mock.calls.map(([change]) => change.assigned)).toEqual([[{ topic: 't', partitions: [0] }], [{ topic: 't', partitions: [1] }]]);
  });

  it('copies the partition instead of keeping the caller’s object', async () => {
    const report = vi.fn();
    const notes = new RebalanceNotes(report);
    const tp = { topic: 't', partition: 4 };
    notes.add('assigned', tp);
    tp.partition = 99;
    await nextTurn();
    expect(report).toHaveBeenCalledWith({ assigned: [{ topic: 't', partitions: [4] }], revoked: [] });
  });
});
