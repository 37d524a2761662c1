import { describe, expect, it } from 'vitest';
import type { Brook, DeadLetterEvent, Message, Ordering } from '@brook/broker';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
import { HandlerLog, keyOverlaps, tally, type HandlerRun } from '../support/handler-runs.js';
import { ioDelay, sendAll, startParallelConsumer } from '../support/parallel-consumer.js';

const BACKOFF_MS = 500;

/**
 * One partition: A0, then B0–B9 with A1 and A2 among them. Keys A and B share the partition, so
 * only the ordering mode decides whether B (and A1, A2) wait for A0.
 */
async function mixedPartition(brook: Brook): Promise<string> {
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions: 1 });
  const a = (seq: number): Message => ({ key: 'A', value: { seq } });
  const b = (seq: number): Message => ({ key: 'B', value: { seq } });
  await sendAll(brook, topic, [a(0), b(0), b(1), a(1), b(2), b(3), a(2), b(4), b(5), b(6), b(7), b(8), b(9)]);
  return topic;
}

const runsOf = (log: HandlerLog, key: string, seq?: number) =>
  log.runs.filter((r) => r.key === key && (seq === undefined || r.seq === seq)).sort((x, y) => x.start - y.start);
const lastEnd = (runs: HandlerRun[]) => Math.max(...runs.map((r) => r.end ?? Infinity));

/** Handles the mixed partition with A0 failing its first two attempts under blocking retries. */
async function retryA0(ordering: Ordering) {
  const brook = createBrook();
  const topic = await mixedPartition(brook);
  const log = new HandlerLog();
  const a0AttemptTimes: number[] = [];
  let committedDuringBackoff: number | null | undefined;
  await startParallelConsumer(
    brook,
    topic,
    log,
    { ordering, concurrency: 16, retry: { attempts: 3, mode: 'blocking', backoff: { type: 'fixed', initialMs: BACKOFF_MS, jitter: 0 } } },
    async ({ message, attempt }) => {
      if (message.key === 'A' && (message.value as { seq: number }).seq === 0) {
        a0AttemptTimes.push(performance.now());
        if (attempt === 2) {
          // The other messages have finished by now (asserted below); A0 has not.
          committedDuringBackoff = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions[0].committedOffset;
        }
        if (attempt < 3) throw new Error('inventory service unavailable');
      }
      await ioDelay(5);
    },
  );
  await waitFor(() => tally(log.runs, 13).handled === 13, { message: '13 messages handled' });
  const a0 = runsOf(log, 'A', 0);
  expect(a0.map((r) => [r.attempt, r.failed])).toEqual([
    [1, true],
    [2, true],
    [3, false],
  ]);
  expect(a0AttemptTimes[1] - a0AttemptTimes[0]).toBeGreaterThanOrEqual(BACKOFF_MS - 20);
  expect(a0AttemptTimes[2] - a0AttemptTimes[1]).toBeGreaterThanOrEqual(BACKOFF_MS - 20);
  const { lost, duplicates } = tally(log.runs, 13);
  expect({ lost, retriedOnly: duplicates.every((copies) => copies[0].offset === 0) }).toEqual({ lost: 0, retriedOnly: true });
  // Messages after A0 finished first, but the committed offset waits for A0.
  expect(committedDuringBackoff).toBe(0);
  await waitFor(async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions[0].committedOffset === 13, { message: 'the partition committed to its end' });
  return { log, a0 };
}

describe('retries and dead letters with parallel orderings', () => {
  it("blocking retries with ordering 'key' hold only the failing key: other keys of the partition flow during the backoff, later messages of the key wait", async () => {
    const { log, a0 } = await retryA0('key');
    const b = runsOf(log, 'B');
    const aLater = [...runsOf(log, 'A', 1), ...runsOf(log, 'A', 2)];
    // All of B was handled while A0 waited for its second attempt.
    expect(lastEnd(b)).toBeLessThan(a0[1].start);
    // A1 and A2 waited for A0's success, then ran in order.
    expect(Math.min(...aLater.map((r) => r.start))).toBeGreaterThan(a0[2].end!);
    expect(aLater.map((r) => r.seq)).toEqual([1, 2]);
    expect(keyOverlaps(log.runs)).toEqual([]);
    console.log(`blocking retry, 'key': B finished at tick ${lastEnd(b)}, A0 retried at ticks ${a0[1].start} and ${a0[2].start}, A1/A2 started at ${aLater.map((r) => r.start).join('/')}`);
  });

  it("blocking retries with ordering 'none' hold only the failing message: later messages of its key run during the backoff", async () => {
    const { log, a0 } = await retryA0('none');
    const others = log.runs.filter((r) => !(r.key === 'A' && r.seq === 0));
    expect(lastEnd(others)).toBeLessThan(a0[1].start);
    console.log(`blocking retry, 'none': the other 12 messages finished at tick ${lastEnd(others)}, A0 retried at ticks ${a0[1].start} and ${a0[2].start}`);
  });

  it("stop() during a key's long blocking backoff returns without waiting it out; the next member continues the attempt count", async () => {
    const brook = createBrook();
    const other = createBrook({ prefix: brook.options.prefix });
    const topic = await mixedPartition(brook);
    const log = new HandlerLog();
    const retry = { attempts: 3, mode: 'blocking', backoff: { type: 'fixed', initialMs: 20_000, jitter: 0 } } as const;
    const failA0 = async ({ message, attempt }: { message: { key: string | null; value: unknown }; attempt: number }) => {
      if (message.key === 'A' && (message.value as { seq: number }).seq === 0 && attempt < 2) throw new Error('inventory service unavailable');
    };
    const first = await startParallelConsumer(brook, topic, log, { ordering: 'key', concurrency: 16, retry, member: 'first' }, failA0);
    await waitFor(() => runsOf(log, 'B').filter((r) => r.end !== undefined).length === 10 && runsOf(log, 'A', 0).length === 1, { message: 'B handled while A0 waits' });
    const stopping = performance.now();
    await first.stop();
    const stopMs = performance.now() - stopping;
    await startParallelConsumer(other, topic, log, { ordering: 'key', concurrency: 16, retry, member: 'second' }, failA0);
    await waitFor(() => tally(log.runs, 13).handled === 13, { message: 'the second member to finish key A' });

    console.log(`stop() during a 20 s backoff took ${Math.round(stopMs)} ms`);
    expect(stopMs).toBeLessThan(5_000);
    expect(runsOf(log, 'A', 0).map((r) => [r.member, r.attempt, r.failed])).toEqual([
      ['first', 1, true],
      ['second', 2, false],
    ]);
    expect(log.runs.filter((r) => r.member === 'second').map((r) => r.offset)).toEqual([0, 3, 6]);
  });

  it("non-blocking retries with ordering 'key' park the failing message and let its key move on; it comes back when due and succeeds", async () => {
    const brook = createBrook();
    const topic = await mixedPartition(brook);
    const log = new HandlerLog();
    await startParallelConsumer(
      brook,
      topic,
      log,
      { ordering: 'key', concurrency: 16, retry: { attempts: 3, mode: 'non-blocking', backoff: { type: 'fixed', initialMs: 300, jitter: 0 } } },
      async ({ message, attempt }) => {
        if (message.key === 'A' && (message.value as { seq: number }).seq === 0 && attempt < 2) throw new Error('inventory service unavailable');
        await ioDelay(5);
      },
    );
    await waitFor(() => tally(log.runs, 13).handled === 13, { message: '13 messages handled' });
    const a0 = runsOf(log, 'A', 0);
    expect(a0.map((r) => [r.attempt, r.failed])).toEqual([
      [1, true],
      [2, false],
    ]);
    // A1 and A2 did not wait for the parked A0.
    expect(lastEnd([...runsOf(log, 'A', 1), ...runsOf(log, 'A', 2)])).toBeLessThan(a0[1].start);
    await waitFor(
      async () => {
        const [partition] = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions;
        return partition.lag === 0 && partition.retrying === 0 && partition.committedOffset === 13;
      },
      { message: 'the partition committed to its end with nothing left to retry' },
    );
  });

  it.each(['key', 'none'] as const)("with ordering '%s' dead-letters a poison message with its error after `attempts` tries, and the partition moves on", async (ordering) => {
    const brook = createBrook();
    const topic = uniqueName('payments');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await sendAll(brook, topic, [
      { key: 'A', value: { seq: 0, poison: true }, headers: { source: 'api' } },
      { key: 'B', value: { seq: 0 } },
      { key: 'A', value: { seq: 1 } },
      { key: 'B', value: { seq: 1 } },
      { key: 'A', value: { seq: 2 } },
    ]);
    const log = new HandlerLog();
    const deadLetters: DeadLetterEvent[] = [];
    const consumer = await startParallelConsumer(
      brook,
      topic,
      log,
      { ordering, concurrency: 8, retry: { attempts: 2, backoff: { type: 'fixed', initialMs: 50, jitter: 0 } } },
      async ({ message }) => {
        if ((message.value as { poison?: boolean }).poison) throw new TypeError('card processor rejected the payload');
        await ioDelay(5);
      },
    );
    consumer.on('dead-letter', (event) => deadLetters.push(event));
    await waitFor(() => deadLetters.length === 1 && tally(log.runs, 5).handled === 4, { message: 'the poison message dead-lettered and the rest handled' });

    expect(deadLetters[0]).toMatchObject({ topic, partition: 0, offset: 0, reason: 'handler-error', attempts: 2 });
    const poisonRuns = log.runs.filter((r) => r.offset === 0);
    expect(poisonRuns.map((r) => [r.attempt, r.failed])).toEqual([
      [1, true],
      [2, true],
    ]);
    if (ordering === 'key') {
      // Key A waited for its poison message to be dead-lettered.
      const aLater = log.runs.filter((r) => r.key === 'A' && r.offset !== 0);
      expect(Math.min(...aLater.map((r) => r.start))).toBeGreaterThan(poisonRuns[1].end!);
      expect(tally(log.runs, 5).orderViolations).toEqual([]);
    }
    const { items } = await brook.admin().deadLetters.list({ topic, group: 'billing' });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      id: deadLetters[0].deadLetterId,
      partition: 0,
      offset: 0,
      attempts: 2,
      reason: 'handler-error',
      error: { name: 'TypeError', message: 'card processor rejected the payload' },
      message: { key: 'A', value: { seq: 0, poison: true }, headers: { source: 'api' } },
    });
    await waitFor(
      async () => {
        const [partition] = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions;
        return partition.lag === 0 && partition.pending === 0 && partition.deadLettered === 1 && partition.committedOffset === 5;
      },
      { message: 'the partition committed to its end with one dead letter' },
    );
    console.log(`dead letter, '${ordering}': 1 dead-lettered after ${poisonRuns.length} attempts, 4 others handled`);
  });
});
