import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryTimeoutError, ProducerQueueFullError } from '@brook/broker';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';

const servers: RedisServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function startServer(): Promise<RedisServer> {
  const server = await RedisServer.start();
  servers.push(server);
  return server;
}

/** How a send settles: its outcome and how long it took. */
async function settle(promise: Promise<unknown>): Promise<{ ms: number; error?: unknown }> {
  const started = performance.now();
  try {
    await promise;
    return { ms: performance.now() - started };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe('Producer during a Redis outage', () => {
  it('queues a send while Redis is stopped and delivers it once Redis is back within deliveryTimeoutMs', async () => {
    const server = await startServer();
    const brook = createBrook({ redis: server.url });
    const topic = uniqueName('outage');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const producer = brook.producer({ deliveryTimeoutMs: 60_000 });
    await producer.send({ topic, messages: [{ value: 'before' }] });

    const failures: string[] = [];
    producer.on('request.error', ({ error }) => failures.push(error.code));
    await server.shutdown();
    const during = producer.send({ topic, messages: [{ value: 'during' }] });
    let settled = false;
    void during.then(() => (settled = true), () => (settled = true));
    // Two whole reconnect cycles (5 attempts each) end in a connection error; the send still waits.
    await waitFor(() => failures.filter((code) => code === 'CONNECTION').length >= 2, { timeoutMs: 30_000 });
    expect(settled).toBe(false);
    await server.restart();

    const [landed] = await during;
    expect(landed).toMatchObject({ topic, partition: 0, offset: 1 });
    const read = await brook.admin().readMessages({ topic, partition: 0, offset: 0, limit: 10 });
    expect(read.messages.map((message) => message.value)).toEqual(['before', 'during']);
  }, 90_000);

  it('rejects a send with DeliveryTimeoutError once deliveryTimeoutMs passed, for a known and an unknown topic alike', async () => {
    const server = await startServer();
    const brook = createBrook({ redis: server.url });
    const topic = uniqueName('outage');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const producer = brook.producer({ deliveryTimeoutMs: 1_500 });
    await producer.send({ topic, messages: [{ value: 'before' }] });

    await server.shutdown();
    const known = settle(producer.send({ topic, messages: [{ value: 'lost' }] }));
    const unknown = settle(producer.send({ topic: uniqueName('never-seen'), messages: [{ value: 'lost' }] }));
    for (const outcome of [await known, await unknown]) {
      expect(outcome.error).toBeInstanceOf(DeliveryTimeoutError);
      expect(outcome.error).toMatchObject({ code: 'DELIVERY_TIMEOUT', retriable: true, deliveryTimeoutMs: 1_500 });
      // Settles at its deadline: not before, and not a reconnect cycle or command timeout later.
      expect(outcome.ms).toBeGreaterThanOrEqual(1_400);
      expect(outcome.ms).toBeLessThan(1_500 + 1_000);
    }
    expect(((await unknown).error as DeliveryTimeoutError).maybeWritten).toBe(false);

    await server.restart();
    // The producer carries on after the outage.
    const [after] = await producer.send({ topic, messages: [{ value: 'after' }] });
    expect(after.offset).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('refuses sends beyond maxQueuedBytes with ProducerQueueFullError while Redis is stopped', async () => {
    const server = await startServer();
    const brook = createBrook({ redis: server.url });
    const topic = uniqueName('outage');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const producer = brook.producer({ deliveryTimeoutMs: 2_000, maxQueuedBytes: 4_096 });
    await producer.send({ topic, messages: [{ value: 'before' }] });

    await server.shutdown();
    const queued = settle(producer.send({ topic, messages: [{ value: 'x'.repeat(3_000) }] }));
    const refused = await settle(producer.send({ topic, messages: [{ value: 'y'.repeat(3_000) }] }));
    expect(refused.error).toBeInstanceOf(ProducerQueueFullError);
    expect(refused.error).toMatchObject({ code: 'QUEUE_FULL', maxQueuedBytes: 4_096 });
    expect(refused.ms).toBeLessThan(500);
    expect((await queued).error).toBeInstanceOf(DeliveryTimeoutError);
  }, 60_000);
});
