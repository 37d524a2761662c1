import { describe, expect, it } from 'vitest';
import { gapBetween, rangesOf } from '../../../libs/broker/src/consumer/gaps.js';

describe('gapBetween', () => {
  it('finds no gap when the next offset follows the last one read', () => {
    expect(gapBetween(4, 5)).toBeUndefined();
    expect(gapBetween(-1, 0)).toBeUndefined();
  });

  it('finds no gap when the next offset is not ahead (a repeat or a rewind)', () => {
    expect(gapBetween(9, 9)).toBeUndefined();
    expect(gapBetween(9, 3)).toBeUndefined();
  });

  it('reports the offsets in between as one range', () => {
    expect(gapBetween(4, 8)).toEqual({ from: 5, to: 7, count: 3 });
  });

  it('reports a single skipped offset', () => {
    expect(gapBetween(4, 6)).toEqual({ from: 5, to: 5, count: 1 });
  });

  it('counts from offset 0 before the first read', () => {
    expect(gapBetween(-1, 3)).toEqual({ from: 0, to: 2, count: 3 });
  });

  it('reports a 50-million gap as one range, never one element per offset', () => {
    expect(gapBetween(99, 50_000_100)).toEqual({ from: 100, to: 50_000_099, count: 50_000_000 });
  });
});

describe('rangesOf', () => {
  it('returns nothing for no offsets', () => {
    expect(rangesOf([])).toEqual([]);
  });

  it('merges consecutive offsets into runs', () => {
    expect(rangesOf([3, 4, 5, 9, 10, 12])).toEqual([
      { from: 3, to: 5, count: 3 },
      { from: 9, to: 10, count: 2 },
      { from: 12, to: 12, count: 1 },
    ]);
  });

  it('sorts unsorted offsets numerically, not as strings', () => {
    expect(rangesOf([10, 9, 100, 2, 11, 1])).toEqual([
      { from: 1, to: 2, count: 2 },
      { from: 9, to: 11, count: 3 },
      { from: 100, to: 100, count: 1 },
    ]);
  });

  it('counts a duplicated offset once', () => {
    expect(rangesOf([5, 5, 6, 6, 6, 8, 8])).toEqual([
      { from: 5, to: 6, count: 2 },
      { from: 8, to: 8, count: 1 },
    ]);
  });

  it('keeps every count equal to the width of its run', () => {
    const offsets = Array.from({ length: 2_000 }, (_, i) => (i * 7_919) % 1_009);
    const ranges = rangesOf(offsets);
    expect(ranges.reduce((sum, r) => sum + r.count, 0)).toBe(new Set(offsets).size);
    for (const r of ranges) expect(r.count).toBe(r.to - r.from + 1);
  });

  it('does not reorder the caller’s array', () => {
    const offsets = [3, 1, 2];
    rangesOf(offsets);
    expect(offsets).toEqual([3, 1, 2]);
  });
});
