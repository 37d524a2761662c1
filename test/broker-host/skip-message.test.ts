import { describe, expect, it } from 'vitest';
import { startConsumer } from '../consumer/helpers.js';
import { uniqueName, waitFor } from '../support/brook.js';
import { startTestHost } from './host.js';

describe('skipping the message a partition is stuck on', () => {
  it('dead-letters the poison record a blocking retry holds, with reason operator, and the partition moves on', async () => {
    const host = await startTestHost();
    const topic = uniqueName('ledger');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    let poisonAttempts = 0;
    const billing = await startConsumer(host.brook, topic, { retry: { mode: 'blocking', attempts: 1_000 }, backoffMs: 20 }, ({ message }) => {
      if (message.value === 'poison') {
        poisonAttempts++;
        throw new Error('cannot parse ledger line');
      }
    });
    await host.brook.producer().send({ topic, messages: [{ key: 'a', value: 'first' }, { key: 'b', value: 'poison' }, { key: 'c', value: 'after' }] });
    await waitFor(() => poisonAttempts >= 3, { message: 'the partition to be stuck retrying the poison record' });
    expect(billing.seen.map((seen) => seen.value)).toEqual(['first']);

    const reply = await host.request('POST', '/api/v1/dead-letters/skip', { token: 'operator', body: { topic, group: 'billing', partition: 0 } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ partition: 0, offset: 1 });
    await waitFor(() => billing.seen.some((seen) => seen.value === 'after'), { message: 'the partition to move on' });

    const letters = (await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing&reason=operator`, { token: 'operator' })).body.items;
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ id: reply.body.deadLetterId, offset: 1, reason: 'operator', error: { name: 'OperatorSkip' }, message: { key: 'b', value: 'poison' } });
    expect(letters[0].attempts).toBeGreaterThanOrEqual(2);
    const [audit] = (await host.request('GET', '/api/v1/dead-letters/audit', { token: 'viewer' })).body.items;
    expect(audit).toMatchObject({ actor: 'oncall', action: 'skip', selection: [reply.body.deadLetterId] });
    expect(billing.seen.map((seen) => seen.value)).toEqual(['first', 'after']);
  });

  it('refuses when nothing is stuck, naming why', async () => {
    const host = await startTestHost();
    const topic = uniqueName('ledger');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    const billing = await startConsumer(host.brook, topic);
    await billing.consumer.stop();
    const reply = await host.request('POST', '/api/v1/dead-letters/skip', { token: 'operator', body: { topic, group: 'billing', partition: 0 } });
    expect(reply.status).toBe(400);
    expect(reply.body.message).toContain('nothing is stuck there');
  });
});
