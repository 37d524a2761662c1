import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/brook.js';
import { topicWithDeadLetters } from './fixtures.js';
import { startTestHost } from './host.js';

describe('dead-letter replay through the broker host', () => {
  it('replays to the failed group only: the other group on the topic sees nothing again', async () => {
    const host = await startTestHost();
    const { topic, state, billing, shipping, deadLetters } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 2, passing: 2, shipping: true });
    expect(billing.seen).toHaveLength(2);
    expect(shipping!.seen).toHaveLength(4);

    state.failing = false;
    const first = deadLetters[0].deadLetterId;
    const replayed = await host.request('POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', ids: [first] } });
    expect(replayed).toMatchObject({ status: 200, body: { replayed: 1, missing: [] } });
    await waitFor(() => billing.seen.length === 3, { message: 'billing to process the replayed message' });
    expect(billing.seen[2]).toMatchObject({ partition: deadLetters[0].partition, offset: deadLetters[0].offset, attempt: 1 });

    // The rest at once, by 'all'; then the groups' views settle.
    expect((await host.request('POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', all: true, to: 'group' } })).body).toEqual({
      replayed: 1,
      parked: [],
      missing: [],
      job: null,
    });
    await waitFor(() => billing.seen.length === 4, { message: 'billing to process the second replayed message' });
    expect(new Set(billing.seen.slice(2).map((seen) => `${seen.partition}:${seen.offset}`))).toEqual(
      new Set(deadLetters.map((event) => `${event.partition}:${event.offset}`)),
    );

    await waitFor(async () => {
      const group = (await host.request('GET', `/api/v1/groups/billing/topics/${topic}`, { token: 'viewer' })).body;
      return group.partitions.every((p: { lag: number; retrying: number; deadLettered: number }) => p.lag === 0 && p.retrying === 0 && p.deadLettered === 0);
    }, { message: "billing's lag and dead letters to reach 0" });
    expect((await host.request('GET', '/api/v1/dead-letters/count', { token: 'viewer' })).body.total).toBe(0);
    // Replaying to the group never touched the log, so shipping had nothing more to receive.
    const described = (await host.request('GET', `/api/v1/topics/${topic}`, { token: 'viewer' })).body;
    expect(described.partitions.reduce((sum: number, p: { highOffset: number }) => sum + p.highOffset, 0)).toBe(4);
    const shippingView = (await host.request('GET', `/api/v1/groups/shipping/topics/${topic}`, { token: 'viewer' })).body;
    expect(shippingView.partitions.reduce((sum: number, p: { counters: { processed: number } }) => sum + p.counters.processed, 0)).toBe(4);
    expect(shipping!.seen).toHaveLength(4);
    const audit = (await host.request('GET', '/api/v1/dead-letters/audit', { token: 'viewer' })).body.items;
    expect(audit.map(({ actor, action, to, selection }: Record<string, unknown>) => ({ actor, action, to, selection }))).toEqual([
      { actor: 'oncall', action: 'replay', to: 'group', selection: 'all' },
      { actor: 'oncall', action: 'replay', to: 'group', selection: [first] },
    ]);
  });

  it('re-publishes to the topic on request, so every group receives the message again with its key and headers', async () => {
    const host = await startTestHost();
    const { topic, state, billing, shipping, deadLetters } = await topicWithDeadLetters(host.brook, { partitions: 3, failing: 1, passing: 0, shipping: true });
    state.failing = false;
    const reply = await host.request('POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', ids: [deadLetters[0].deadLetterId], to: 'topic' } });
    expect(reply).toMatchObject({ status: 200, body: { replayed: 1, missing: [] } });
    await waitFor(() => billing.seen.length === 1 && shipping!.seen.length === 2, { message: 'both groups to receive the re-published message' });
    const original = shipping!.seen[0];
    expect(shipping!.seen[1]).toMatchObject({ partition: original.partition, offset: original.offset + 1, key: original.key, value: original.value });

    const peek = await host.request('GET', `/api/v1/topics/${topic}/partitions/${original.partition}/messages?offset=${original.offset}`, { token: 'operator' });
    expect(peek.body.messages.map((m: { key: string; value: unknown }) => [m.key, m.value])).toEqual([
      [original.key, original.value],
      [original.key, original.value],
    ]);
    expect((await host.request('GET', '/api/v1/dead-letters/audit', { token: 'viewer' })).body.items[0]).toMatchObject({ actor: 'oncall', to: 'topic' });
  });
});
