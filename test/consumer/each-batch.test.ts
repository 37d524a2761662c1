import { describe, expect, inject, it } from 'vitest';
import type { Brook, DeadLetterEvent, EachBatchHandler, RetryOptions } from '@brook/broker';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
import { FAST_GROUP, sendAll } from '../support/parallel-consumer.js';
import { MemberEventLog, startParallelMember } from '../support/parallel-members.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function topicWith(brook: Brook, partitions: number, values: unknown[]): Promise<string> {
  const topic = uniqueName('shipments');
  await brook.admin().createTopic({ topic, partitions });
  await sendAll(
    brook,
    topic,
    values.map((value, i) => ({ value, partition: i % partitions })),
  );
  return topic;
}

async function runBatches(brook: Brook, topic: string, eachBatch: EachBatchHandler, { retry, maxBatchSize }: { retry?: RetryOptions; maxBatchSize?: number } = {}) {
  const consumer = brook.consumer({ group: 'billing', ...FAST_GROUP, ...(maxBatchSize === undefined ? {} : { maxBatchSize }) });
  await consumer.subscribe({ topic, fromBeginning: true });
  const deadLetters: DeadLetterEvent[] = [];
  consumer.on('dead-letter', (event) => deadLetters.push(event));
  await consumer.run({ eachBatch, retry });
  return { consumer, deadLetters };
}

async function partitionState(brook: Brook, topic: string, partition = 0) {
  return (await brook.admin().describeGroup({ group: 'billing', topic })).partitions[partition];
}

describe('eachBatch', () => {
  it('acknowledges the offsets a failing batch resolved; only the unresolved messages are retried, and they succeed', async () => {
    const brook = createBrook();
    const topic = await topicWith(brook, 1, range(0, 9).map((n) => ({ n })));
    const batches: number[][] = [];
    await runBatches(
      brook,
      topic,
      async ({ batch, resolveOffset }) => {
        batches.push(batch.messages.map((m) => m.offset));
        if (batches.length === 1) {
          resolveOffset(4);
          throw new Error('bulk insert failed at row 5');
        }
      },
      { retry: { attempts: 3, backoff: { type: 'fixed', initialMs: 50, jitter: 0 } } },
    );
    await waitFor(async () => (await partitionState(brook, topic)).committedOffset === 10, { message: 'the partition committed to its end' });

    expect(batches).toEqual([range(0, 9), range(5, 9)]);
    const state = await partitionState(brook, topic);
    expect(state).toMatchObject({ lag: 0, pending: 0, retrying: 0, deadLettered: 0 });
    // One failed attempt for each of the five unresolved messages.
    expect(state.counters).toMatchObject({ processed: 10, failed: 5, deadLettered: 0 });
    console.log(`eachBatch partial resolution: batches ${JSON.stringify(batches.map((b) => `${b[0]}-${b[b.length - 1]}`))}, redelivered resolved 0`);
  });

  it('dead-letters each unresolved message of a batch that keeps failing, with the error, and moves on', async () => {
    const brook = createBrook();
    // Offsets 3–9 fail; the handler resolves what it stored before the first failure.
    const topic = await topicWith(brook, 1, range(0, 9).map((n) => ({ n, bad: n >= 3 })));
    const batches: number[][] = [];
    const { deadLetters } = await runBatches(
      brook,
      topic,
      async ({ batch, resolveOffset }) => {
        batches.push(batch.messages.map((m) => m.offset));
        for (const message of batch.messages) {
          if ((message.value as { bad: boolean }).bad) throw new RangeError(`weight out of range at offset ${message.offset}`);
          resolveOffset(message.offset);
        }
      },
      { retry: { attempts: 2, backoff: { type: 'fixed', initialMs: 50, jitter: 0 } } },
    );
    await waitFor(() => deadLetters.length === 7, { message: '7 dead letters' });
    await brook.producer().send({ topic, messages: range(10, 14).map((n) => ({ value: { n, bad: false } })) });
    await waitFor(async () => (await partitionState(brook, topic)).committedOffset === 15, { message: 'the partition to move on past the dead letters' });

    expect(batches.slice(0, 2)).toEqual([range(0, 9), range(3, 9)]);
    expect(batches.slice(2).flat()).toEqual(range(10, 14));
    expect(deadLetters.map((e) => e.offset).sort((a, b) => a - b)).toEqual(range(3, 9));
    expect(deadLetters.every((e) => e.reason === 'handler-error' && e.attempts === 2)).toBe(true);
    const { items } = await brook.admin().deadLetters.list({ topic, group: 'billing' });
    expect(items.map((item) => item.offset).sort((a, b) => a - b)).toEqual(range(3, 9));
    for (const item of items) {
      // The batch failed at offset 3: every unresolved message carries that error.
      expect(item).toMatchObject({ attempts: 2, reason: 'handler-error', error: { name: 'RangeError', message: 'weight out of range at offset 3' }, message: { value: { n: item.offset, bad: true } } });
    }
    expect(await partitionState(brook, topic)).toMatchObject({ lag: 0, pending: 0, deadLettered: 7, counters: { processed: 8, deadLettered: 7 } });
    console.log(`eachBatch attempts exhausted: dead-lettered ${items.length}, processed 8, batches ${batches.length}`);
  });

  it('hands over at most maxBatchSize consecutive messages of one partition per batch, each message once, in offset order', async () => {
    const brook = createBrook();
    const topic = await topicWith(brook, 2, range(0, 199).map((n) => ({ n })));
    const batches: Array<{ partition: number; offsets: number[]; first: number; last: number }> = [];
    await runBatches(
      brook,
      topic,
      async ({ batch }) => {
        batches.push({ partition: batch.partition, offsets: batch.messages.map((m) => m.offset), first: batch.firstOffset(), last: batch.lastOffset() });
      },
      { maxBatchSize: 7 },
    );
    await waitFor(() => batches.reduce((n, b) => n + b.offsets.length, 0) >= 200, { message: '200 messages in batches' });

    const sizes = batches.map((b) => b.offsets.length);
    expect(Math.max(...sizes)).toBe(7);
    for (const { offsets, first, last } of batches) {
      expect(offsets).toEqual(range(first, last));
    }
    for (const partition of [0, 1]) {
      expect(batches.filter((b) => b.partition === partition).flatMap((b) => b.offsets)).toEqual(range(0, 99));
    }
    console.log(`eachBatch maxBatchSize 7: ${batches.length} batches, sizes ${Math.min(...sizes)}–${Math.max(...sizes)}`);
  });

  it('a batch handler that stops early once isRunning() turns false on stop(): the messages it did not resolve go to the next member', async () => {
    const brook = createBrook();
    const other = createBrook({ prefix: brook.options.prefix });
    const topic = await topicWith(brook, 1, range(0, 19).map((n) => ({ n })));
    const processed: Array<{ member: string; offset: number }> = [];
    const handlerFor =
      (member: string): EachBatchHandler =>
      async ({ batch, resolveOffset, isRunning }) => {
        for (const message of batch.messages) {
          // The documented pattern: leave the rest to the next member once this one stops.
          if (!isRunning()) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
          processed.push({ member, offset: message.offset });
          resolveOffset(message.offset);
        }
      };
    const { consumer } = await runBatches(brook, topic, handlerFor('first'), { maxBatchSize: 20 });
    await waitFor(() => processed.length >= 5, { message: 'the first member to be inside its batch' });
    await consumer.stop();
    const handledByFirst = processed.map((p) => p.offset);
    const committedAfterStop = (await partitionState(brook, topic)).committedOffset;

    await runBatches(other, topic, handlerFor('second'));
    // Reached only once the second member handled the rest, unless the first acknowledged it all.
    await waitFor(async () => (await partitionState(brook, topic)).committedOffset === 20, { message: 'the partition committed to its end' });
    const handledBySecond = processed.filter((p) => p.member === 'second').map((p) => p.offset);
    const lost = range(0, 19).filter((o) => !processed.some((p) => p.offset === o));
    console.log(
      `eachBatch stop mid-batch: first resolved ${handledByFirst.length} of 20, committed after its stop ${committedAfterStop}, second handled ${handledBySecond.length}, lost ${lost.length}`,
    );
    expect(handledByFirst.length).toBeLessThan(20);
    expect(committedAfterStop, 'committed offset after the first member stopped').toBe(handledByFirst.length);
    expect(lost).toEqual([]);
    expect(handledBySecond).toEqual(range(handledByFirst.length, 19));
  });

  it('a batch handler that stops early once isRunning() turns false when its partition moves to a joining member loses nothing', async () => {
    const brook = createBrook();
    const other = createBrook({ prefix: brook.options.prefix });
    const topic = await topicWith(brook, 2, range(0, 39).map((n) => ({ n })));
    const processed = new Set<string>();
    const handlerFor =
      (member: string): EachBatchHandler =>
      async ({ batch, resolveOffset, isRunning }) => {
        for (const message of batch.messages) {
          if (!isRunning()) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
          processed.add(`${batch.partition}:${message.offset}`);
          resolveOffset(message.offset);
        }
      };
    const consumer = brook.consumer({ group: 'billing', ...FAST_GROUP, maxBatchSize: 20 });
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachBatch: handlerFor('first'), concurrency: 2 });
    await waitFor(() => processed.size >= 6, { message: 'the first member to be inside its batches' });
    // The second member joins: one partition moves while the first member's batch on it runs.
    await runBatches(other, topic, handlerFor('second'));
    await waitFor(
      async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions.every((p) => p.committedOffset === 20 && p.owner !== null),
      { message: 'both partitions committed to their end' },
    );
    const lost = [0, 1].flatMap((p) => range(0, 19).map((o) => `${p}:${o}`)).filter((id) => !processed.has(id));
    console.log(`eachBatch rebalance mid-batch: processed ${processed.size} of 40, lost ${lost.length}`);
    expect(lost).toEqual([]);
  });

  it('after a member is SIGKILLed mid-batch, the next owner gets every message not resolved and none that was', async () => {
    const brook = createBrook();
    const topic = await topicWith(brook, 1, range(0, 29).map((n) => ({ n })));
    const log = new MemberEventLog(`${brook.options.prefix}:events`);
    const settings = {
      redisUrl: inject('redisUrl'),
      prefix: brook.options.prefix,
      topic,
      group: 'billing',
      events: log.key,
      handler: 'each-batch' as const,
      ordering: 'partition' as const,
      maxBatchSize: 10,
      sessionMs: 1_500,
    };
    // a finishes its batches until the one holding offset 15: it resolves 10–14 of it, then hangs.
    const a = await startParallelMember('a', { ...settings, hangAtOffset: 15 });
    await waitFor(() => a.events.some((e) => e.type === 'hanging'), { message: 'a batch handler to hang', timeoutMs: 15_000 });
    // resolveOffset acknowledges at once: 10–14 are committed while the handler still hangs.
    await waitFor(async () => ((await partitionState(brook, topic)).committedOffset ?? 0) >= 15, { message: 'the finished batch and the resolved offsets to be acknowledged' });
    await log.kill(a);
    const acknowledged = (await partitionState(brook, topic)).committedOffset!;

    const b = await startParallelMember('b', settings);
    await waitFor(
      async () => {
        const ended = (await log.events()).filter((e) => e.e === 'batch-end' && e.m === 'b').flatMap((e) => e.offsets!);
        return ended.includes(29);
      },
      { message: 'b to handle the rest', timeoutMs: 15_000, intervalMs: 50 },
    );
    await waitFor(async () => (await partitionState(brook, topic)).committedOffset === 30, { message: 'the partition committed to its end' });

    const events = await log.events();
    const handledBy = (member: string) => events.filter((e) => e.e === 'batch-end' && e.m === member).flatMap((e) => e.offsets!);
    const deliveredToB = events.filter((e) => e.e === 'batch' && e.m === b.name).flatMap((e) => e.offsets!);
    const hanging = a.events.flatMap((e) => (e.type === 'hanging' ? [e.offsets] : []))[0];
    const resolvedButRedelivered = deliveredToB.filter((o) => o < 15 && hanging.includes(o)).length;
    // a resolved the offsets of its hanging batch below 15: those were processed.
    const resolvedByA = hanging.filter((o) => o < 15);
    const lost = range(0, 29).filter((o) => !handledBy('a').includes(o) && !resolvedByA.includes(o) && !handledBy('b').includes(o));
    console.log(
      `eachBatch SIGKILL mid-batch: acknowledged before the kill ${acknowledged}, hanging batch ${hanging[0]}-${hanging.at(-1)}, redelivered ${deliveredToB.length} (resolved but unacknowledged among them ${resolvedButRedelivered}), lost ${lost.length}`,
    );
    expect(lost).toEqual([]);
    // What was acknowledged is never delivered again; everything after it is, in order.
    expect(acknowledged).toBe(15);
    expect(resolvedButRedelivered).toBe(0);
    expect(deliveredToB).toEqual(range(acknowledged, 29));
  });
});
