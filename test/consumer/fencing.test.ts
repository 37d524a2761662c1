import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerError } from '@brook/broker';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';
import { startConsumer, topicWithMessages } from './helpers.js';

describe('lease fencing', () => {
  it('refuses the acknowledgement of a member whose lease moved, and the message is processed again', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 3 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered = false;
    const { consumer, seen } = await startConsumer(brook, topic, {}, async ({ message }) => {
      if (message.offset === 1 && !entered) {
        entered = true;
        await held;
      }
    });
    const lost: string[] = [];
    consumer.on('partition.lost', ({ reason }) => lost.push(reason));
    await waitFor(() => entered, { message: 'the handler of offset 1 to start' });

    // Another member takes the lease, as after this one's session expired.
    const leaseKey = `${brook.options.prefix}:{${topic}:0}:lease:billing`;
    await rawRedis().set(leaseKey, 'intruder', 'PX', 300);
    release();

    await waitFor(() => lost.includes('fenced'), { message: 'the refused acknowledgement' });
    // The refused messages stay pending; once the intruder's lease lapses the member takes the
    // partition back and processes them again. Acknowledgements are pipelined, so offset 2 may have
    // run before the refusal of offset 1 came back: then it is redelivered too.
    await waitFor(() => seen.filter((s) => s.offset === 1).length === 2 && seen.at(-1)?.offset === 2, { message: 'processing to resume' });
    expect([
      [0, 1, 1, 2],
      [0, 1, 2, 1, 2],
    ]).toContainEqual(seen.map((s) => s.offset));
    await waitFor(async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions[0].lag === 0);
  });

  it('aborts the handler signal when the partition is lost', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 1 });
    let signal: AbortSignal | undefined;
    await startConsumer(brook, topic, { heartbeatIntervalMs: 20 }, async (payload) => {
      if (signal === undefined) {
        signal = payload.signal;
        await new Promise((resolve) => payload.signal.addEventListener('abort', resolve));
      }
    });
    await waitFor(() => signal !== undefined);
    await rawRedis().set(`${brook.options.prefix}:{${topic}:0}:lease:billing`, 'intruder', 'PX', 200);
    await waitFor(() => signal!.aborted, { message: 'the heartbeat to notice the lost lease' });
  });
});

describe('Redis restarts', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('reconnects with backoff, reports the errors through events and resumes without losing, skipping or repeating an acknowledged message', async () => {
    const brook = createBrook({ redis: server.url, connection: { retries: 1_000, initialBackoffMs: 20, maxBackoffMs: 100 } });
    const { topic, more } = await topicWithMessages(brook, { partitions: 2, count: 20 });
    const errors: BrokerError[] = [];
    const { consumer, seen } = await startConsumer(brook, topic, { sessionTimeoutMs: 3_000, heartbeatIntervalMs: 100 });
    consumer.on('request.error', ({ error }) => errors.push(error));
    await waitFor(() => seen.length === 20);
    // Acknowledgements in flight when the connection drops are in doubt and dropped (their messages
    // come again); with every one written before the crash, nothing may repeat.
    await waitFor(async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions.every((p) => p.lag === 0));

    await server.kill();
    await waitFor(() => errors.length > 0, { message: 'an error event while Redis is down' });
    await server.restart();
    await more(20);
    await waitFor(() => new Set(seen.map((s) => `${s.partition}:${s.offset}`)).size === 40, { message: 'all 40 messages after the restart' });
    expect(errors.filter((error) => error.code !== 'CONNECTION').map((e) => e.message)).toEqual([]);
    const counts = new Map<string, number>();
    for (const s of seen) counts.set(`${s.partition}:${s.offset}`, (counts.get(`${s.partition}:${s.offset}`) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});

it('names the partition and group in a fenced error message', async () => {
  const { FencedError } = await import('@brook/broker');
  const error = new FencedError(uniqueName('t'), 3, 'billing');
  expect(error.message).toMatch(/no longer owns partition 3 of .* for group 'billing'/);
  expect(error.retriable).toBe(true);
});
