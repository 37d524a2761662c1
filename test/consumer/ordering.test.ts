import { describe, expect, it } from 'vitest';
import type { Brook } from '@brook/broker';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { HandlerLog, keyOverlaps, tally } from '../support/handler-runs.js';
import { ioDelay, keyedMessages, sendAll, startParallelConsumer } from '../support/parallel-consumer.js';

async function createTopic(brook: Brook, partitions: number): Promise<string> {
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions });
  return topic;
}

/** Handlers in flight at once, overall and per category, as a handler sees them. */
function concurrencyGauge() {
  const now = new Map<string, number>();
  const max = new Map<string, number>();
  return {
    max: (category: string) => max.get(category) ?? 0,
    async around(categories: string[], work: () => Promise<void>) {
      for (const c of categories) {
        now.set(c, (now.get(c) ?? 0) + 1);
        max.set(c, Math.max(max.get(c) ?? 0, now.get(c)!));
      }
      try {
        await work();
      } finally {
        for (const c of categories) now.set(c, now.get(c)! - 1);
      }
    },
  };
}

describe("ordering: 'key' and 'none'", () => {
  it("with ordering 'key' runs messages of one key one at a time in offset order, different keys of a partition side by side, and each keyless message on its own", async () => {
    const brook = createBrook();
    const topic = await createTopic(brook, 1);
    // 10 messages of key A, 10 of key B and 10 keyless ones, interleaved, all in partition 0.
    const messages = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 2 ? { value: { seq: -1, n: i } } : { key: i % 3 === 0 ? 'A' : 'B', value: { seq: Math.floor(i / 3), n: i } },
    );
    await sendAll(brook, topic, messages);
    const redis = rawRedis();
    const gauge = concurrencyGauge();
    const log = new HandlerLog();
    await startParallelConsumer(brook, topic, log, { ordering: 'key', concurrency: 16 }, ({ message }) =>
      gauge.around(['all', message.key ?? 'keyless'], async () => {
        await redis.ping();
        await ioDelay(30);
      }),
    );
    await waitFor(() => log.runs.filter((r) => r.end !== undefined).length === 30, { message: '30 messages handled' });

    const { lost, duplicates, orderViolations } = tally(log.runs, 30);
    expect({ lost, duplicates: duplicates.length, orderViolations }).toEqual({ lost: 0, duplicates: 0, orderViolations: [] });
    expect(keyOverlaps(log.runs)).toEqual([]);
    for (const key of ['A', 'B']) {
      const offsets = log.runs.filter((r) => r.key === key).sort((a, b) => a.start - b.start).map((r) => r.offset);
      expect(offsets, `offsets of key ${key} in the order their handlers started`).toEqual([...offsets].sort((a, b) => a - b));
      expect(gauge.max(key), `handlers of key ${key} at once`).toBe(1);
    }
    // A, B and the ten keyless messages: up to 12 lanes at once.
    expect(gauge.max('keyless')).toBeGreaterThan(1);
    expect(gauge.max('all')).toBeGreaterThanOrEqual(3);
    expect(gauge.max('all')).toBeLessThanOrEqual(12);
    console.log(`ordering 'key': max in flight ${gauge.max('all')} (keyless ${gauge.max('keyless')}, A ${gauge.max('A')}, B ${gauge.max('B')})`);
  });

  it("with ordering 'none' runs messages of one key side by side, up to concurrency", async () => {
    const brook = createBrook();
    const topic = await createTopic(brook, 1);
    await sendAll(brook, topic, keyedMessages(40, 1));
    const gauge = concurrencyGauge();
    const log = new HandlerLog();
    await startParallelConsumer(brook, topic, log, { ordering: 'none', concurrency: 8 }, () => gauge.around(['all'], () => ioDelay(30)));
    await waitFor(() => log.runs.filter((r) => r.end !== undefined).length === 40, { message: '40 messages handled' });

    const { lost, duplicates } = tally(log.runs, 40);
    expect({ lost, duplicates: duplicates.length }).toEqual({ lost: 0, duplicates: 0 });
    expect(gauge.max('all')).toBeLessThanOrEqual(8);
    expect(gauge.max('all')).toBeGreaterThanOrEqual(6);
    console.log(`ordering 'none', one key: max in flight ${gauge.max('all')} of concurrency 8`);
  });

  it.each(['key', 'none'] as const)("with ordering '%s' keeps at most `concurrency` handlers in flight across all partitions of the consumer, and fills them", async (ordering) => {
    const brook = createBrook();
    const topic = await createTopic(brook, 4);
    await sendAll(brook, topic, keyedMessages(600, 200));
    const redis = rawRedis();
    const log = new HandlerLog();
    await startParallelConsumer(brook, topic, log, { ordering, concurrency: 20 }, async () => {
      await redis.ping();
      await ioDelay(10);
    });
    await waitFor(() => tally(log.runs, 600).handled === 600, { message: '600 messages handled', timeoutMs: 20_000 });

    const { lost, duplicates } = tally(log.runs, 600);
    expect({ lost, duplicates: duplicates.length }).toEqual({ lost: 0, duplicates: 0 });
    expect(log.maxInFlight).toBeLessThanOrEqual(20);
    expect(log.maxInFlight).toBeGreaterThanOrEqual(16);
    console.log(`ordering '${ordering}', 4 partitions, concurrency 20: max in flight ${log.maxInFlight}`);
  });

  it("runs 16 handlers at once by default with ordering 'none'", async () => {
    const brook = createBrook();
    const topic = await createTopic(brook, 2);
    await sendAll(brook, topic, keyedMessages(200, 50));
    const log = new HandlerLog();
    await startParallelConsumer(brook, topic, log, { ordering: 'none' }, () => ioDelay(10));
    await waitFor(() => tally(log.runs, 200).handled === 200, { message: '200 messages handled' });
    expect(log.maxInFlight).toBe(16);
  });

  it.each(['key', 'none'] as const)(
    "with ordering '%s' and concurrency 100 under load, the committed offset never passes a message whose handler has not finished, and per-key order holds for 'key'",
    async (ordering) => {
      const brook = createBrook();
      const topic = await createTopic(brook, 8);
      const total = 3_000;
      const keys = 300;
      // A backlog fills the handler slots at once; steady production keeps them busy.
      const seqs = new Array<number>(keys).fill(0);
      await sendAll(brook, topic, keyedMessages(1_500, keys, seqs));
      const redis = rawRedis();
      const log = new HandlerLog();
      // Per partition: offsets whose handler succeeded, and the oldest offset not yet finished.
      const finished = new Map<number, { oldestUnfinished: number; done: Set<number> }>();
      await startParallelConsumer(brook, topic, log, { ordering, concurrency: 100 }, async ({ partition, message }) => {
        await redis.ping();
        // Uneven durations, so later messages often finish before earlier ones.
        await ioDelay(1 + Math.floor(Math.random() * 40));
        const state = finished.get(partition) ?? { oldestUnfinished: 0, done: new Set<number>() };
        finished.set(partition, state);
        state.done.add(message.offset);
        while (state.done.has(state.oldestUnfinished)) state.done.delete(state.oldestUnfinished++);
      });
      const load = produceContinuation(brook, topic, total - 1_500, seqs);

      let samples = 0;
      let heldBack = 0;
      const violations: string[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const description = await brook.admin().describeGroup({ group: 'billing', topic });
          // Evaluated after the reply: a message acknowledged during the call has finished by now.
          for (const { partition, committedOffset } of description.partitions) {
            if (committedOffset === null) continue;
            const oldestUnfinished = finished.get(partition)?.oldestUnfinished ?? 0;
            if (committedOffset > oldestUnfinished) violations.push(`partition ${partition}: committed ${committedOffset}, offset ${oldestUnfinished} not finished`);
            if ((finished.get(partition)?.done.size ?? 0) > 0) heldBack++;
          }
          samples++;
          // Random moments, not a wait for anything.
          await ioDelay(Math.floor(Math.random() * 25));
        }
      })();
      await load.done;
      await waitFor(() => tally(log.runs, total).handled === total, { message: `${total} messages handled`, timeoutMs: 20_000 });
      sampling = false;
      await sampler;

      const { lost, duplicates, orderViolations } = tally(log.runs, total);
      const overlaps = keyOverlaps(log.runs);
      console.log(
        `ordering '${ordering}' concurrency 100 under load: lost ${lost}, duplicated ${duplicates.length}, per-key regressions ${orderViolations.length}, key overlaps ${overlaps.length}, max in flight ${log.maxInFlight}, committed-offset samples ${samples} (${heldBack} partition samples held back by an unfinished older message), committed past an unfinished message ${violations.length}`,
      );
      expect(violations).toEqual([]);
      expect({ lost, duplicates: duplicates.length }).toEqual({ lost: 0, duplicates: 0 });
      if (ordering === 'key') {
        expect(orderViolations).toEqual([]);
        expect(overlaps).toEqual([]);
      } else {
        // Nothing holds a key back in 'none' mode.
        expect(overlaps.length).toBeGreaterThan(0);
      }
      expect(log.maxInFlight).toBeLessThanOrEqual(100);
      expect(log.maxInFlight).toBeGreaterThanOrEqual(50);
      expect(samples).toBeGreaterThanOrEqual(10);
      expect(heldBack).toBeGreaterThan(0);
      await waitFor(
        async () => {
          const { partitions } = await brook.admin().describeGroup({ group: 'billing', topic });
          return partitions.every((p) => p.committedOffset === p.highOffset && p.lag === 0 && p.pending === 0);
        },
        { message: 'every partition committed to its end' },
      );
    },
  );
});

/** Produces `count` more keyed messages steadily (1,000 per second), continuing the per-key sequences in `seqs`. */
function produceContinuation(brook: Brook, topic: string, count: number, seqs: number[]) {
  const producer = brook.producer();
  let produced = 0;
  const done = (async () => {
    while (produced < count) {
      const n = Math.min(10, count - produced);
      const batch = Array.from({ length: n }, (_, i) => {
        const k = (produced + i) % seqs.length;
        return { key: `key-${k}`, value: { seq: seqs[k]++ } };
      });
      produced += n;
      await Promise.all([producer.send({ topic, messages: batch }), ioDelay(10)]);
    }
  })();
  return { done };
}
