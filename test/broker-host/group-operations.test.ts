import { describe, expect, it } from 'vitest';
import { redisTimeMs, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';
import { startConsumer } from '../consumer/helpers.js';
import { topicWithDeadLetters } from './fixtures.js';
import { startTestHost } from './host.js';

describe('broker host group operations', () => {
  it('shows lag and lag in seconds in the group list, the group, and the metrics, within a second of the truth', async () => {
    const host = await startTestHost();
    const topic = uniqueName('orders');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    const { consumer } = await startConsumer(host.brook, topic, { group: 'billing' });
    await waitFor(async () => (await host.brook.admin().describeGroup({ group: 'billing', topic })).partitions[0].lag === 0, { message: 'the group to position itself' });
    await consumer.stop();
    const [record] = await host.brook.producer().send({ topic, messages: [{ value: 1 }, { value: 2 }] });
    const { messages } = await host.brook.admin().readMessages({ topic, partition: 0, offset: record.offset, limit: 1 });
    const appended = messages[0].timestamp;
    await waitForRedisTime(appended + 2_000);

    const before = await redisTimeMs();
    const list = await host.request('GET', '/api/v1/groups', { token: 'viewer' });
    const described = await host.request('GET', `/api/v1/groups/billing/topics/${topic}`, { token: 'viewer' });
    const metrics = await host.request<string>('GET', '/metrics', { token: 'viewer' });
    const after = await redisTimeMs();
    const truth = { low: (before - appended) / 1_000 - 1, high: (after - appended) / 1_000 + 1 };

    expect(list.body.groups).toEqual([{ group: 'billing', kind: 'exclusive', topics: [topic], members: 0, lag: 2, lagSeconds: expect.any(Number) }]);
    const seconds = [
      list.body.groups[0].lagSeconds,
      described.body.partitions[0].lagSeconds,
      Number(/brook_group_lag_seconds\{group="billing",topic="[^"]+",partition="0"\} (\S+)/.exec(metrics.body)![1]),
    ];
    for (const value of seconds) {
      expect(value).toBeGreaterThanOrEqual(truth.low);
      expect(value).toBeLessThanOrEqual(truth.high);
    }
  });

  it('serves the lag history the controller samples', async () => {
    const host = await startTestHost({ lagSampleIntervalMs: 50, controllerLeaseMs: 1_000 });
    const { topic } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 1, passing: 1 });
    // Acknowledgements of the last messages may still be on their way: wait for a sample after them.
    const history = await waitFor(
      async () => {
        const reply = await host.request('GET', `/api/v1/groups/billing/topics/${topic}/lag-history`, { token: 'viewer' });
        return reply.body.samples?.length >= 3 && reply.body.samples.at(-1).lag === 0 ? reply : undefined;
      },
      { timeoutMs: 30_000, message: 'the controller to sample the lag three times, the last one after the group finished' },
    );
    expect(history.body).toMatchObject({ group: 'billing', topic });
    expect(history.body.samples.at(-1)).toMatchObject({ at: expect.any(Number), lag: 0, lagSeconds: 0, partitions: [{ partition: 0, lag: 0, lagSeconds: 0 }, { partition: 1, lag: 0, lagSeconds: 0 }] });
    const [first, , third] = history.body.samples;
    const limited = await host.request('GET', `/api/v1/groups/billing/topics/${topic}/lag-history?from=${first.at}&to=${third.at}&limit=2`, { token: 'viewer' });
    expect(limited.body.samples).toHaveLength(2);
    expect(limited.body.samples.at(-1).at).toBeLessThanOrEqual(third.at);
    expect(await host.request('GET', `/api/v1/groups/nobody/topics/${topic}/lag-history`, { token: 'viewer' })).toMatchObject({ status: 404, body: { code: 'UNKNOWN_GROUP' } });
    expect(await host.request('GET', `/api/v1/groups/billing/topics/${topic}/lag-history?limit=0`, { token: 'viewer' })).toMatchObject({ status: 400 });
    const metrics = await host.request<string>('GET', '/metrics', { token: 'viewer' });
    expect(Number(/^brook_lag_samples_total (\d+)$/m.exec(metrics.body)![1])).toBeGreaterThanOrEqual(3);
  });

  it('deletes a group: 409 while members are live, then every key, audited with the token name', async () => {
    const host = await startTestHost();
    const { topic, billing } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 1, shipping: true });
    expect(await host.request('DELETE', '/api/v1/groups/billing')).toMatchObject({ status: 409, body: { code: 'GROUP_ACTIVE' } });
    expect(await host.request('DELETE', '/api/v1/groups/billing?force=maybe')).toMatchObject({ status: 400 });
    await billing.consumer.stop();
    const deleted = await host.request('DELETE', '/api/v1/groups/billing');
    expect(deleted).toMatchObject({ status: 200, body: { group: 'billing', topics: [topic], keysDeleted: expect.any(Number) } });
    expect(await host.request('GET', '/api/v1/groups/billing')).toMatchObject({ status: 404, body: { code: 'UNKNOWN_GROUP' } });
    expect(await host.request('DELETE', '/api/v1/groups/billing')).toMatchObject({ status: 404, body: { code: 'UNKNOWN_GROUP' } });
    expect(await host.request('DELETE', '/api/v1/groups/shipping?force=true')).toMatchObject({ status: 200 });
    const audit = await host.request('GET', '/api/v1/dead-letters/audit?limit=2', { token: 'viewer' });
    expect(audit.body.items.map(({ actor, action, group }: Record<string, string>) => `${actor}:${action}:${group}`)).toEqual(['root:delete-group:shipping', 'root:delete-group:billing']);
  });

  it('peeks a partition from a timestamp', async () => {
    const host = await startTestHost();
    const topic = uniqueName('events');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    await host.brook.producer().send({ topic, messages: [1_000, 2_000, 3_000].map((timestamp) => ({ value: timestamp, timestamp })) });
    const page = await host.request('GET', `/api/v1/topics/${topic}/partitions/0/messages?timestamp=1500`, { token: 'operator' });
    expect(page.body.messages.map((m: { offset: number }) => m.offset)).toEqual([1, 2]);
    expect(await host.request('GET', `/api/v1/topics/${topic}/partitions/0/messages?timestamp=1500&offset=0`, { token: 'operator' })).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
  });
});
