/** A run of consecutive offsets: the form gaps are reported in, never one element per offset. */
export interface OffsetRange {
  /** First offset of the run. */
  from: number;
  /** Last offset of the run. */
  to: number;
  count: number;
}

/**
 * The offsets a reader skipped: it had read up to `lastReadOffset` (-1 before the first) and the
 * next message it got is `nextOffset`. Offsets are dense, so anything between was removed by
 * retention before the reader got to it. Constant space however large the gap.
 */
export function gapBetween(lastReadOffset: number, nextOffset: number): OffsetRange | undefined {
  if (nextOffset <= lastReadOffset + 1) return undefined;
  return { from: lastReadOffset + 1, to: nextOffset - 1, count: nextOffset - lastReadOffset - 1 };
}

/** Sorted, merged runs of the given offsets. */
export function rangesOf(offsets: readonly number[]): OffsetRange[] {
  const sorted = [...offsets].sort((a, b) => a - b);
  const ranges: OffsetRange[] = [];
  for (const offset of sorted) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && offset <= last.to + 1) {
      if (offset > last.to) {
        last.to = offset;
        last.count++;
      }
    } else {
      ranges.push({ from: offset, to: offset, count: 1 });
    }
  }
  return ranges;
}
