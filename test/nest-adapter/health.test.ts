import './support.js';
import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Brook } from '@brook/broker';
import { BrookHealthIndicator, Payload, Subscribe } from '@brook/nest-adapter';
import { uniqueName, waitFor } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';
import { brokerOptions, startApp } from './support.js';

const servers: RedisServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

function subscriberOf(topic: string, group: string) {
  @Injectable()
  class Subscriber {
    @Subscribe(topic, group)
    async handle(@Payload() _value: unknown) {}
  }
  return Subscriber;
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

describe('BrookHealthIndicator', () => {
  it('answers down within its timeout, with the reason, while Redis is stopped, and up again once it is back', async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const topic = uniqueName('orders');
    const group = uniqueName('billing');
    const app = await startApp({ providers: [subscriberOf(topic, group)] }, brokerOptions({ redis: server.url, topics: [{ topic, partitions: 1 }] }));
    const health = app.get(BrookHealthIndicator);
    expect(await health.isHealthy('brook')).toEqual({ brook: { status: 'up', redis: 'up', consumers: [group] } });

    await server.shutdown();
    for (const options of [{}, { timeoutMs: 300 }, { maxLag: 10 }]) {
      const { value, ms } = await timed(health.isHealthy('brook', options));
      expect(value.brook).toMatchObject({ status: 'down', redis: 'down', message: expect.any(String) });
      expect(ms).toBeLessThan(((options as { timeoutMs?: number }).timeoutMs ?? 1_000) + 500);
    }
    // Asked repeatedly while Redis stays down (the reconnect cycles go on), it keeps its answer time.
    const { value, ms } = await timed(health.isHealthy('brook'));
    expect(value.brook.status).toBe('down');
    expect(ms).toBeLessThan(1_500);

    await server.restart();
    await waitFor(async () => (await health.isHealthy('brook')).brook.status === 'up', { timeoutMs: 20_000 });
  }, 60_000);

  it('answers down, naming the topic, when a subscribed topic was deleted, instead of throwing', async () => {
    const topic = uniqueName('orders');
    const group = uniqueName('billing');
    const app = await startApp({ providers: [subscriberOf(topic, group)] }, brokerOptions({ topics: [{ topic, partitions: 2 }] }));
    const health = app.get(BrookHealthIndicator);
    expect((await health.isHealthy('brook', { maxLag: 100 })).brook.status).toBe('up');

    await app.get(Brook).admin().deleteTopic(topic);
    for (const options of [{}, { maxLag: 100 }]) {
      const result = await health.isHealthy('brook', options);
      expect(result.brook).toMatchObject({ status: 'down', message: expect.stringContaining(`'${topic}' of group '${group}'`) });
    }
  });
});
