import type { BrookContext } from '../client/context.js';

/**
 * The first offset in `[low, high)` whose message timestamp is at or after `timestamp`, or `high`
 * when none is, by binary search over the log: one XRANGE of one entry per step. Message
 * timestamps are assumed to grow with offsets, as Brook's append times do; with explicit producer
 * timestamps out of order the answer is one offset where the order changes.
 */
export async function offsetForTimestamp(ctx: BrookContext, topic: string, partition: number, timestamp: number, low: number, high: number): Promise<number> {
  const key = ctx.keys.log(topic, partition);
  let lo = low;
  let hi = high;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [entry] = await ctx.run(`search partition ${partition} of '${topic}' by timestamp`, () => ctx.client.xrange(key, `0-${mid + 1}`, '+', 'COUNT', 1));
    if (entry === undefined) {
      hi = mid;
      continue;
    }
    const seq = Number(entry[0].slice(2));
    const fields = entry[1];
    const t = Number(fields[fields.indexOf('t') + 1]);
    if (t >= timestamp) hi = Math.min(mid, seq - 1);
    else lo = seq;
  }
  return lo;
}
