import { describe, expect, it } from 'vitest';
import type { DeadLetterEvent } from '@brook/broker';
import { startConsumer } from '../consumer/helpers.js';
import { redisTimeMs, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';
import { startTestHost } from './host.js';

/** Time between the two batches of dead letters; retention's cutoff falls in the middle. */
const GAP_MS = 4_000;

describe('dead-letter retention through the broker host', () => {
  it('removes only the dead letters past maxAgeMs, and counts them in brook_dead_letters_removed_total', async () => {
    const host = await startTestHost({ maintenanceIntervalMs: 100, controllerLeaseMs: 1_000 });
    const topic = uniqueName('invoices');
    await host.brook.admin().createTopic({ topic, partitions: 2 });
    const events: DeadLetterEvent[] = [];
    const billing = await startConsumer(host.brook, topic, { retry: { attempts: 1 } }, () => {
      throw new Error('ledger closed');
    });
    billing.consumer.on('dead-letter', (event) => events.push(event));
    const send = (from: number) => host.brook.producer().send({ topic, messages: Array.from({ length: 6 }, (_, n) => ({ key: `i${from + n}`, value: from + n })) });
    const list = async () => (await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing`, { token: 'operator' })).body.items as Array<{ id: string; deadLetteredAt: number }>;

    expect((await host.request('GET', `/api/v1/dead-letters/retention?topic=${topic}&group=billing`, { token: 'viewer' })).body).toEqual({
      maxAgeMs: 1_209_600_000,
      maxCount: 100_000,
      custom: false,
    });
    await send(0);
    await waitFor(() => events.length === 6, { message: 'the old batch to be dead-lettered' });
    const old = await list();
    const oldEnd = Math.max(...old.map((letter) => letter.deadLetteredAt));
    await waitForRedisTime(oldEnd + GAP_MS);
    await send(6);
    await waitFor(() => events.length === 12, { message: 'the young batch to be dead-lettered' });
    const young = (await list()).filter((letter) => letter.deadLetteredAt > oldEnd);
    expect(young).toHaveLength(6);

    // The cutoff lands halfway between the batches: everything old is past it, nothing young is.
    const maxAgeMs = (await redisTimeMs()) - (oldEnd + GAP_MS / 2);
    const set = await host.request('PUT', '/api/v1/dead-letters/retention', { token: 'admin', body: { topic, group: 'billing', maxAgeMs } });
    expect(set).toMatchObject({ status: 200, body: { maxAgeMs, maxCount: 100_000 } });
    await waitFor(async () => (await list()).length === 6, { message: 'retention to remove the old batch' });
    expect((await list()).map((letter) => letter.id).sort()).toEqual(young.map((letter) => letter.id).sort());
    const metrics = (await host.request('GET', '/metrics', { token: 'viewer' })).body as string;
    expect(metrics).toContain(`brook_dead_letters_removed_total{group="billing",topic="${topic}"} 6`);
    // Searches by the old letters' key find nothing any more: the index lost them with the letters.
    expect((await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing&key=i0`, { token: 'operator' })).body.items).toEqual([]);
  });

  it('keeps at most maxCount dead letters per partition, the oldest going first', async () => {
    const host = await startTestHost({ maintenanceIntervalMs: 100, controllerLeaseMs: 1_000 });
    const topic = uniqueName('invoices');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    const events: DeadLetterEvent[] = [];
    const billing = await startConsumer(host.brook, topic, { retry: { attempts: 1 } }, () => {
      throw new Error('ledger closed');
    });
    billing.consumer.on('dead-letter', (event) => events.push(event));
    await host.brook.producer().send({ topic, messages: Array.from({ length: 10 }, (_, n) => ({ key: `i${n}`, value: n })) });
    await waitFor(() => events.length === 10, { message: 'the batch to be dead-lettered' });
    await host.request('PUT', '/api/v1/dead-letters/retention', { token: 'admin', body: { topic, group: 'billing', maxCount: 4, maxAgeMs: 0 } });
    const list = async () => (await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing`, { token: 'operator' })).body.items as Array<{ offset: number }>;
    await waitFor(async () => (await list()).length === 4, { message: 'retention to keep 4' });
    expect((await list()).map((letter) => letter.offset)).toEqual([6, 7, 8, 9]);
  });
});
