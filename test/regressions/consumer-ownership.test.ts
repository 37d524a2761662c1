import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Brook, Consumer, EachMessagePayload } from '@brook/broker';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { createBrook, rawRedis, redisTimeMs, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';
import { FaultProxy } from '../support/fault-proxy.js';

/** One handler run: which member, which message, and when it started and returned (performance.now()). */
interface Run {
  member: string;
  offset: number;
  startedAt: number;
  endedAt: number | undefined;
}

/** Runs of one partition that overlapped in time, as `[earlier, later]` pairs. */
function overlapping(runs: Run[]): Array<[Run, Run]> {
  const sorted = [...runs].sort((a, b) => a.startedAt - b.startedAt);
  const pairs: Array<[Run, Run]> = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      if (sorted[j].startedAt < (sorted[i].endedAt ?? Infinity)) pairs.push([sorted[i], sorted[j]]);
    }
  }
  return pairs;
}

/** Starts a member whose every handler run is recorded in `runs`; `work` is the handler's body. */
async function recordingMember(
  brook: Brook,
  topic: string,
  name: string,
  runs: Run[],
  options: { sessionTimeoutMs: number; heartbeatIntervalMs: number; concurrency?: number },
  work: (payload: EachMessagePayload, run: Run) => Promise<void> = async () => undefined,
): Promise<Consumer> {
  const consumer = brook.consumer({ group: 'billing', sessionTimeoutMs: options.sessionTimeoutMs, heartbeatIntervalMs: options.heartbeatIntervalMs, maxWaitTimeMs: 500 });
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: options.concurrency ?? 1,
    eachMessage: async (payload) => {
      const run: Run = { member: name, offset: payload.message.offset, startedAt: performance.now(), endedAt: undefined };
      runs.push(run);
      try {
        await work(payload, run);
      } finally {
        run.endedAt = performance.now();
      }
    },
  });
  return consumer;
}

/** Rejects once the consumer emits `crash`, so a test fails with the cause instead of timing out. */
function crashOf(consumer: Consumer): Promise<never> {
  const crashed = new Promise<never>((_, reject) => {
    consumer.once('crash', ({ error }) => reject(new Error(`the consumer crashed: ${String(error)}`, { cause: error })));
  });
  crashed.catch(() => undefined);
  return crashed;
}

const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
});

describe('one partition, one handler at a time', () => {
  it('regression: the same member ran one partition twice at once after it lost and re-took the lease while its first handler still ran', async () => {
    const brook = createBrook();
    const keys = new KeySpace(brook.options.prefix);
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await brook.producer().send({ topic, messages: Array.from({ length: 5 }, (_, seq) => ({ value: { seq } })) });
    const runs: Run[] = [];
    let firstRunOfOffset1: Run | undefined;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const consumer = await recordingMember(brook, topic, 'a', runs, { sessionTimeoutMs: 1_000, heartbeatIntervalMs: 50, concurrency: 4 }, async ({ message }, run) => {
      if (message.offset === 1 && firstRunOfOffset1 === undefined) {
        firstRunOfOffset1 = run;
        // Ignores its aborted signal and finishes in its own time.
        await released;
      }
    });
    const crashed = crashOf(consumer);
    const lost: string[] = [];
    consumer.on('partition.lost', ({ reason }) => lost.push(reason));
    await waitFor(() => firstRunOfOffset1 !== undefined, { message: 'the first run of offset 1 to start' });

    // Another member takes the lease for a moment, as after a session that expired.
    await rawRedis().set(keys.lease(topic, 0, 'billing'), 'intruder:1', 'PX', 300);
    await waitFor(() => lost.includes('fenced'), { message: 'the member to notice it lost the lease' });
    // The intruder's lease runs out; the member, still assigned the partition, may take it back,
    // but not while its first run of offset 1 goes on.
    const expiresAt = (await redisTimeMs()) + Math.max(0, await rawRedis().pttl(keys.lease(topic, 0, 'billing')));
    await waitForRedisTime(expiresAt + 500);
    release();

    await Promise.race([
      crashed,
      waitFor(() => [0, 1, 2, 3, 4].every((offset) => runs.some((run) => run.offset === offset && run.endedAt !== undefined && run !== firstRunOfOffset1)), {
        message: 'every message to be handled after the member took the partition back',
      }),
    ]);
    await waitFor(async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions[0].lag === 0, { message: 'lag 0' });
    expect(overlapping(runs)).toEqual([]);
  });
});

describe('a member cut off from Redis', () => {
  it('regression: a member cut off from Redis kept running past its lease and its signal never aborted, while the next owner handled the same message', async () => {
    const url = new URL(inject('redisUrl'));
    const proxy = await FaultProxy.start({ host: url.hostname, port: Number(url.port) });
    proxies.push(proxy);
    const sessionTimeoutMs = 2_000;
    const timings = { sessionTimeoutMs, heartbeatIntervalMs: 100 };
    // Member A reaches Redis through the proxy; its requests give up within the session.
    const brookA = createBrook({ redis: proxy.url, connection: { commandTimeoutMs: 1_000 } });
    const brookB = createBrook({ redis: inject('redisUrl'), prefix: brookA.options.prefix });
    const topic = uniqueName('orders');
    await brookB.admin().createTopic({ topic, partitions: 1 });
    await brookB.producer().send({ topic, messages: [{ value: 'slow' }, { value: 'next' }] });

    const runs: Run[] = [];
    let abortedAt: number | undefined;
    const consumerA = await recordingMember(brookA, topic, 'a', runs, timings, async ({ signal }) => {
      // Honours its signal: returns as soon as it aborts.
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      abortedAt ??= performance.now();
    });
    const crashesA: string[] = [];
    consumerA.on('crash', ({ error }) => crashesA.push(String(error)));
    const lostA: string[] = [];
    consumerA.on('partition.lost', ({ reason }) => lostA.push(reason));
    await waitFor(() => runs.some((run) => run.member === 'a' && run.offset === 0), { message: 'member A to start offset 0' });
    await recordingMember(brookB, topic, 'b', runs, timings);

    const cutAt = performance.now();
    proxy.blackhole();
    await waitFor(() => abortedAt !== undefined, { message: "member A's handler signal to abort", timeoutMs: 3 * sessionTimeoutMs });
    await waitFor(() => runs.some((run) => run.member === 'b' && run.offset === 0 && run.endedAt !== undefined), { message: 'member B to take over offset 0' });

    // The last renewal that got through was sent before the cut, so the lease ran out by then.
    expect(abortedAt! - cutAt).toBeLessThanOrEqual(sessionTimeoutMs + 100);
    expect(lostA[0]).toBe('expired');
    const takeover = runs.find((run) => run.member === 'b')!;
    expect(takeover.startedAt).toBeGreaterThan(abortedAt!);
    expect(overlapping(runs.filter((run) => run.offset === 0))).toEqual([]);
    // Being cut off is no reason to crash: the member goes on once Redis can be reached again.
    expect(crashesA).toEqual([]);

    proxy.restore();
    await brookA.close();
  });
});

describe('stopping', () => {
  it('regression: stop() hung forever when it came while the worker was giving the event loop a turn', async () => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    for (let round = 0; round < 10; round++) {
      await brook.producer().send({ topic, messages: Array.from({ length: 300 }, (_, i) => ({ value: i })) });
      const consumer = brook.consumer({ group: 'billing', sessionTimeoutMs: 1_000, heartbeatIntervalMs: 50 });
      await consumer.subscribe({ topic, fromBeginning: true });
      let handled = 0;
      await consumer.run({
        eachMessage: async () => {
          // Busy for over a millisecond: the worker yields to the event loop after every message.
          const until = performance.now() + 1.2;
          while (performance.now() < until);
          handled++;
        },
      });
      await waitFor(() => handled >= 1 + round, { message: `messages to be handled in round ${round}` });
      const started = performance.now();
      await consumer.stop();
      expect(performance.now() - started).toBeLessThan(2_000);
    }
  });
});
