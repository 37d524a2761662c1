import './support.js';
import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Brook } from '@brook/broker';
import { Ctx, MessageContext, Payload, Subscribe } from '@brook/nest-adapter';
import { uniqueName, waitFor } from '../support/brook.js';
import { brokerOptions, startApp } from './support.js';

/** Counts handlers in flight, overall and per key, and what each key saw in order. */
class Tracker {
  inFlight = 0;
  maxInFlight = 0;
  sameKeyOverlaps = 0;
  readonly busyKeys = new Set<string>();
  readonly seen = new Map<string, number[]>();

  async track(key: string, n: number, work: () => Promise<void>): Promise<void> {
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    if (this.busyKeys.has(key)) this.sameKeyOverlaps++;
    this.busyKeys.add(key);
    try {
      await work();
      this.seen.set(key, [...(this.seen.get(key) ?? []), n]);
    } finally {
      this.busyKeys.delete(key);
      this.inFlight--;
    }
  }

  get handled(): number {
    return [...this.seen.values()].reduce((sum, list) => sum + list.length, 0);
  }
}

describe('@Subscribe ordering and concurrency', () => {
  it("runs a key-ordered handler at concurrency 8 side by side within one partition, each key's messages one at a time in offset order", async () => {
    const topic = uniqueName('orders');
    const tracker = new Tracker();

    @Injectable()
    class Billing {
      @Subscribe(topic, 'billing', { ordering: 'key', concurrency: 8, fromBeginning: true })
      async charge(@Payload('n') n: number, @Ctx() ctx: MessageContext) {
        await tracker.track(ctx.key!, n, () => sleep(5));
      }
    }

    const app = await startApp({ providers: [Billing] }, brokerOptions({ topics: [{ topic, partitions: 1 }] }));
    const keys = Array.from({ length: 8 }, (_, i) => `customer-${i}`);
    await app.get(Brook).producer().send({ topic, messages: Array.from({ length: 160 }, (_, n) => ({ key: keys[n % keys.length], value: { n } })) });
    await waitFor(() => tracker.handled === 160, { message: 'all 160 messages' });

    expect(tracker.maxInFlight).toBeGreaterThan(1);
    expect(tracker.maxInFlight).toBeLessThanOrEqual(8);
    expect(tracker.sameKeyOverlaps).toBe(0);
    for (const [i, key] of keys.entries()) {
      expect(tracker.seen.get(key)).toEqual(Array.from({ length: 20 }, (_, j) => i + j * keys.length));
    }
  });

  it('keeps a partition-ordered handler at one message at a time per partition, as before', async () => {
    const topic = uniqueName('orders');
    const tracker = new Tracker();

    @Injectable()
    class Billing {
      @Subscribe(topic, 'billing', { fromBeginning: true })
      async charge(@Payload('n') n: number) {
        await tracker.track('partition', n, () => sleep(1));
      }
    }

    const app = await startApp({ providers: [Billing] }, brokerOptions({ topics: [{ topic, partitions: 1 }] }));
    await app.get(Brook).producer().send({ topic, messages: Array.from({ length: 30 }, (_, n) => ({ key: `k${n % 5}`, value: { n } })) });
    await waitFor(() => tracker.handled === 30);
    expect(tracker.maxInFlight).toBe(1);
    expect(tracker.seen.get('partition')).toEqual(Array.from({ length: 30 }, (_, n) => n));
  });
});
