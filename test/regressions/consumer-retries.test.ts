import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Brook, Consumer, ConsumerOptions, EachMessagePayload, RunOptions } from '@brook/broker';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { createBrook, rawRedis, redisTimeMs, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';

const FAST = { sessionTimeoutMs: 1_000, heartbeatIntervalMs: 50, maxWaitTimeMs: 1_000 } as const;

/** One handler attempt, timed on the monotonic clock. */
interface Attempt {
  partition: number;
  offset: number;
  attempt: number;
  at: number;
}

async function startConsumer(
  brook: Brook,
  topic: string,
  run: Omit<RunOptions, 'eachMessage'>,
  handler: (payload: EachMessagePayload) => Promise<void> | void,
  options: Partial<ConsumerOptions> = {},
): Promise<{ consumer: Consumer; attempts: Attempt[] }> {
  const consumer = brook.consumer({ group: 'billing', ...FAST, ...options });
  const attempts: Attempt[] = [];
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    ...run,
    eachMessage: async (payload) => {
      attempts.push({ partition: payload.partition, offset: payload.message.offset, attempt: payload.attempt, at: performance.now() });
      await handler(payload);
    },
  });
  return { consumer, attempts };
}

async function lagOf(brook: Brook, topic: string): Promise<number> {
  const { partitions } = await brook.admin().describeGroup({ group: 'billing', topic });
  return partitions.reduce((total, partition) => total + (partition.lag ?? Infinity), 0);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('non-blocking retries', () => {
  it('regression: a due retry that waited in memory behind a long backlog was taken from the delay queue again and handled twice', async () => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    // The failing message first, then a backlog of batches that each take longer than the session
    // timeout: a retry that comes due is taken between two batches and waits behind the next one.
    await brook.producer().send({ topic, messages: [{ value: { fail: true } }, ...Array.from({ length: 200 }, (_, seq) => ({ value: { seq } }))] });
    const { attempts } = await startConsumer(
      brook,
      topic,
      { retry: { mode: 'non-blocking', attempts: 5, backoff: { type: 'fixed', initialMs: 50, jitter: 0 } } },
      async ({ message, attempt }) => {
        if ((message.value as { fail?: boolean }).fail && attempt === 1) throw new Error('fails once');
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
      { maxBatchSize: 100 },
    );

    await waitFor(async () => attempts.length >= 202 && (await lagOf(brook, topic)) === 0, { message: 'the backlog and the retry to be done', timeoutMs: 15_000 });
    // A second take would come once the first one's lease on it (or a visibility timeout) ran out.
    await waitForRedisTime((await redisTimeMs()) + FAST.sessionTimeoutMs);

    expect(attempts.filter((a) => a.offset === 0).map((a) => a.attempt)).toEqual([1, 2]);
    expect(attempts).toHaveLength(202);
  });

  it("regression: retry due times followed the member's wall clock, so a member an hour fast parked a 200 ms retry for an hour", async () => {
    const brook = createBrook();
    const keys = new KeySpace(brook.options.prefix);
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await brook.producer().send({ topic, messages: [{ value: 'fails once' }] });
    // This process's wall clock runs an hour fast; Redis' clock is right.
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
    let failedAtRedisMs: number | undefined;
    const { attempts } = await startConsumer(
      brook,
      topic,
      { retry: { mode: 'non-blocking', attempts: 3, backoff: { type: 'fixed', initialMs: 200, jitter: 0 } } },
      async ({ attempt }) => {
        if (attempt > 1) return;
        failedAtRedisMs = await redisTimeMs();
        throw new Error('fails once');
      },
    );

    // The parked retry's due time, as Redis holds it (members are stream IDs, `0-<offset + 1>`).
    const dueAt = await waitFor(async () => Number(await rawRedis().zscore(keys.delayQueue(topic, 0, 'billing'), '0-1')), { message: 'the retry to be parked', intervalMs: 5 });
    await waitFor(() => attempts.length === 2, { message: 'the retry to run', timeoutMs: 5_000 });

    const [first, second] = attempts;
    expect(second.at - first.at).toBeGreaterThanOrEqual(150);
    expect(second.at - first.at).toBeLessThan(3_000);
    expect(Math.abs(dueAt - (failedAtRedisMs! + 200))).toBeLessThan(1_000);
  });
});

describe('blocking retries', () => {
  it("regression: a blocking retry's backoff held the consumer's only handler slot and stalled every other partition", async () => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 2 });
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ partition: 0, value: 'poison' }] });
    const { attempts } = await startConsumer(
      brook,
      topic,
      { partitionsConsumedConcurrently: 1, retry: { mode: 'blocking', attempts: 3, backoff: { type: 'fixed', initialMs: 2_000, jitter: 0 } } },
      ({ partition }) => {
        if (partition === 0) throw new Error('poison');
      },
    );
    await waitFor(() => attempts.some((a) => a.partition === 0), { message: 'the first attempt at the poison message' });

    const sentAt = performance.now();
    await producer.send({ topic, messages: [{ partition: 1, value: 'healthy' }] });
    await waitFor(() => attempts.some((a) => a.partition === 1), { message: 'the message on partition 1 to be handled', timeoutMs: 5_000 });

    const handledAt = attempts.find((a) => a.partition === 1)!.at;
    expect(handledAt - sentAt).toBeLessThan(1_000);
    // Partition 0 is still waiting out its backoff.
    expect(attempts.filter((a) => a.partition === 0)).toHaveLength(1);
  });
});
