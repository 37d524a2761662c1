import { describe, expect, it } from 'vitest';
import { slotPromotions, type SlotRange } from '../../../libs/broker/src/redis/connection-watch.js';

const before: SlotRange[] = [
  { from: 0, to: 5_460, nodes: ['a:1', 'a:2'] },
  { from: 5_461, to: 10_922, nodes: ['b:1', 'b:2'] },
  { from: 10_923, to: 16_383, nodes: ['c:1', 'c:2'] },
];

describe('slotPromotions', () => {
  it('reports the slots a replica of their primary took over, as one failover per pair of nodes', () => {
    const after: SlotRange[] = [before[0], { from: 5_461, to: 10_922, nodes: ['b:2'] }, before[2]];
    const promotions = slotPromotions(before, after);
    expect(promotions.map(({ from, to, slots }) => ({ from, to, count: slots.size }))).toEqual([{ from: 'b:1', to: 'b:2', count: 5_462 }]);
    expect(promotions[0].slots.has(5_461) && promotions[0].slots.has(10_922) && !promotions[0].slots.has(5_460)).toBe(true);
  });

  it('does not take a resharding (slots moved to another primary) or an unchanged map for a failover', () => {
    const resharded: SlotRange[] = [
      { from: 0, to: 99, nodes: ['b:1', 'b:2'] },
      { from: 100, to: 5_460, nodes: ['a:1', 'a:2'] },
      before[1],
      before[2],
    ];
    expect(slotPromotions(before, resharded)).toEqual([]);
    expect(slotPromotions(before, before)).toEqual([]);
    expect(slotPromotions([], before)).toEqual([]);
  });
});
