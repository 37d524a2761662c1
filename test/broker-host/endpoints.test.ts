import { describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../support/brook.js';
import { topicWithDeadLetters } from './fixtures.js';
import { startTestHost } from './host.js';

describe('broker host endpoints', () => {
  it('creates, lists, describes, grows and deletes topics', async () => {
    const host = await startTestHost();
    const topic = uniqueName('orders.created');

    const created = await host.request('POST', '/api/v1/topics', { body: { topic, partitions: 2, retention: { maxMessages: 1_000, maxAgeMs: 60_000 } } });
    expect(created).toMatchObject({ status: 201, body: { topic, created: true } });
    expect(await host.request('POST', '/api/v1/topics', { body: { topic, partitions: 2, retention: { maxMessages: 1_000, maxAgeMs: 60_000 } } })).toMatchObject({
      status: 200,
      body: { created: false },
    });
    expect((await host.request('GET', '/api/v1/topics')).body).toEqual({ topics: [{ topic, partitions: 2 }] });

    const described = await host.request('GET', `/api/v1/topics/${topic}`);
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({ topic, retention: { maxMessages: 1_000, maxAgeMs: 60_000 } });
    expect(described.body.partitions).toHaveLength(2);
    expect(described.body.partitions[0]).toMatchObject({ partition: 0, lowOffset: 0, highOffset: 0, leader: expect.stringMatching(/:\d+$/), replicas: [], inSyncReplicas: [], replicaStatus: [] });

    expect(await host.request('POST', `/api/v1/topics/${topic}/partitions`, { body: { partitions: 4 } })).toMatchObject({ status: 200, body: { topic, partitions: 4 } });
    expect((await host.request('GET', `/api/v1/topics/${topic}`)).body.partitions).toHaveLength(4);

    expect((await host.request('DELETE', `/api/v1/topics/${topic}`)).status).toBe(204);
    expect(await host.request('GET', `/api/v1/topics/${topic}`)).toMatchObject({ status: 404, body: { code: 'UNKNOWN_TOPIC' } });
    expect((await host.request('GET', '/api/v1/topics')).body).toEqual({ topics: [] });
  });

  it('produces messages and peeks a partition from an offset, with bytes as base64', async () => {
    const host = await startTestHost();
    const topic = uniqueName('events');
    await host.brook.admin().createTopic({ topic, partitions: 2 });

    const produced = await host.request('POST', `/api/v1/topics/${topic}/messages`, {
      body: {
        messages: [
          { key: 'a', value: { id: 1, items: [1, { sku: 'x' }] }, headers: { trace: 't-1' }, partition: 1, timestamp: 1_000 },
          { value: 'plain text', partition: 1, timestamp: 2_000 },
          { valueBase64: Buffer.from([0, 1, 255]).toString('base64'), partition: 1, timestamp: 3_000 },
          { value: null, partition: 1, timestamp: 4_000 },
        ],
      },
    });
    expect(produced.status).toBe(201);
    expect(produced.body.records.map((r: { partition: number; offset: number }) => [r.partition, r.offset])).toEqual([
      [1, 0],
      [1, 1],
      [1, 2],
      [1, 3],
    ]);

    const page = await host.request('GET', `/api/v1/topics/${topic}/partitions/1/messages?offset=0&limit=3`, { token: 'operator' });
    expect(page.status).toBe(200);
    expect(page.body).toEqual({
      topic,
      partition: 1,
      messages: [
        { offset: 0, key: 'a', value: { id: 1, items: [1, { sku: 'x' }] }, valueFormat: 'json', encoding: 'json', headers: { trace: 't-1' }, timestamp: 1_000 },
        { offset: 1, key: null, value: 'plain text', valueFormat: 'text', encoding: 's', headers: {}, timestamp: 2_000 },
        { offset: 2, key: null, value: 'AAH/', valueFormat: 'base64', encoding: 'b', headers: {}, timestamp: 3_000 },
      ],
      nextOffset: 3,
    });
    const rest = await host.request('GET', `/api/v1/topics/${topic}/partitions/1/messages?offset=3`, { token: 'operator' });
    expect(rest.body.messages).toEqual([{ offset: 3, key: null, value: null, valueFormat: 'json', encoding: 'json', headers: {}, timestamp: 4_000 }]);
    expect((await host.request('GET', `/api/v1/topics/${topic}/partitions/0/messages`, { token: 'operator' })).body).toMatchObject({ messages: [], nextOffset: 0 });
  });

  it('lists and describes groups with members, assignment, committed offsets, lag and pending, and resets offsets', async () => {
    const host = await startTestHost();
    const { topic, billing } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 2, passing: 3 });

    const groups = await host.request('GET', '/api/v1/groups', { token: 'viewer' });
    expect(groups.body).toEqual({ groups: [{ group: 'billing', kind: 'exclusive', topics: [topic], members: 1, lag: 0, lagSeconds: 0 }] });

    const group = await host.request('GET', '/api/v1/groups/billing', { token: 'viewer' });
    expect(group.status).toBe(200);
    expect(group.body).toMatchObject({ group: 'billing', members: 1 });
    expect(group.body.topics).toHaveLength(1);
    const [described] = group.body.topics;
    expect(described.members).toEqual([{ memberId: billing.consumer.memberId, clientId: 'test', partitions: [0, 1] }]);
    for (const partition of described.partitions) {
      expect(partition).toMatchObject({ owner: billing.consumer.memberId, lag: 0, lagSeconds: 0, pending: 0, retrying: 0 });
      expect(partition.committedOffset).toBe(partition.highOffset);
    }
    const deadLettered = described.partitions.reduce((sum: number, p: { deadLettered: number }) => sum + p.deadLettered, 0);
    expect(deadLettered).toBe(2);
    expect((await host.request('GET', `/api/v1/groups/billing/topics/${topic}`, { token: 'viewer' })).body).toEqual(described);

    // Refused while the member is live, unless forced.
    expect(await host.request('POST', `/api/v1/groups/billing/topics/${topic}/reset-offsets`, { body: { to: 'earliest' } })).toMatchObject({
      status: 409,
      body: { code: 'GROUP_ACTIVE' },
    });
    await billing.consumer.stop();
    const reset = await host.request('POST', `/api/v1/groups/billing/topics/${topic}/reset-offsets`, { body: { to: 'earliest' } });
    expect(reset).toMatchObject({ status: 200, body: { group: 'billing', topic, partitions: [{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }] } });
    const after = (await host.request('GET', `/api/v1/groups/billing/topics/${topic}`)).body;
    expect(after.partitions.reduce((sum: number, p: { lag: number }) => sum + p.lag, 0)).toBe(5);
    expect(await host.request('POST', `/api/v1/groups/billing/topics/${topic}/reset-offsets`, { body: { offset: 1 } })).toMatchObject({ status: 200 });
    expect(await host.request('POST', `/api/v1/groups/billing/topics/${topic}/reset-offsets`, { body: { timestamp: 0, force: true } })).toMatchObject({ status: 200 });
  });

  it('lists, pages, inspects and counts dead letters, and keeps the audit log of replays and purges', async () => {
    const host = await startTestHost();
    const { topic, deadLetters } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 5 });
    const ids = new Set(deadLetters.map((event) => event.deadLetterId));

    const first = await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing&limit=3`, { token: 'operator' });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(3);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing&limit=3&cursor=${encodeURIComponent(first.body.nextCursor)}`, { token: 'operator' });
    expect(second.body.items).toHaveLength(2);
    expect(second.body.nextCursor).toBeNull();
    expect(new Set([...first.body.items, ...second.body.items].map((item: { id: string }) => item.id))).toEqual(ids);

    const [letter] = first.body.items;
    expect(letter).toMatchObject({
      topic,
      group: 'billing',
      reason: 'handler-error',
      attempts: 1,
      error: { name: 'Error', message: expect.stringMatching(/^cannot bill order \d$/) },
      message: { key: expect.stringMatching(/^f\d$/), value: { fail: true }, valueFormat: 'json', encoding: 'json' },
    });
    const onPartition = await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing&partition=1&reason=handler-error`, { token: 'operator' });
    expect(onPartition.body.items.every((item: { partition: number }) => item.partition === 1)).toBe(true);
    expect(onPartition.body.items).toHaveLength(deadLetters.filter((event) => event.partition === 1).length);
    expect((await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing&reason=timeout`, { token: 'operator' })).body.items).toEqual([]);

    const one = await host.request('GET', `/api/v1/dead-letters/${letter.id}?topic=${topic}&group=billing`, { token: 'operator' });
    expect(one).toMatchObject({ status: 200, body: letter });
    expect(await host.request('GET', `/api/v1/dead-letters/0-1-0?topic=${topic}&group=billing`, { token: 'operator' })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });

    expect((await host.request('GET', '/api/v1/dead-letters/count', { token: 'viewer' })).body).toEqual({ total: 5, byTopicAndGroup: [{ topic, group: 'billing', count: 5 }] });
    expect((await host.request('GET', `/api/v1/dead-letters/count?topic=${topic}&group=billing`, { token: 'viewer' })).body.total).toBe(5);

    const purged = await host.request('POST', '/api/v1/dead-letters/purge', { body: { topic, group: 'billing', ids: [letter.id, '0-1-0'] } });
    expect(purged).toMatchObject({ status: 200, body: { purged: 1, missing: ['0-1-0'] } });
    expect(await host.request('POST', '/api/v1/dead-letters/purge', { body: { topic, group: 'billing', all: true } })).toMatchObject({ body: { purged: 4 } });

    const audit = await host.request('GET', '/api/v1/dead-letters/audit?limit=10', { token: 'viewer' });
    expect(audit.body.items.map(({ actor, action, selection, result }: Record<string, unknown>) => ({ actor, action, selection, result }))).toEqual([
      { actor: 'root', action: 'purge', selection: 'all', result: { count: 4, missing: [] } },
      { actor: 'root', action: 'purge', selection: [letter.id, '0-1-0'], result: { count: 1, missing: ['0-1-0'] } },
    ]);
    const older = await host.request('GET', `/api/v1/dead-letters/audit?limit=1&cursor=${audit.body.items[0].id}`, { token: 'viewer' });
    expect(older.body.items.map((item: { selection: unknown }) => item.selection)).toEqual([[letter.id, '0-1-0']]);
  });

  it('reports the controller, health and metrics, and serves the OpenAPI document', async () => {
    const host = await startTestHost({ controllerLeaseMs: 3_000, hostId: 'host-a' });
    await host.brook.admin().createTopic({ topic: 'tracked', partitions: 1 });

    const controller = await waitFor(async () => {
      const reply = await host.request('GET', '/api/v1/controller', { token: 'viewer' });
      return reply.body.isLeader && reply;
    }, { message: 'the only host to lead' });
    expect(controller.body).toMatchObject({ hostId: 'host-a', isLeader: true, epoch: 1, leader: { holderId: 'host-a', epoch: 1 }, leaseMs: 3_000 });

    const health = await host.request('GET', '/health', { token: null });
    expect(health).toMatchObject({
      status: 200,
      body: { status: 'ok', info: { redis: { status: 'up' }, topology: { status: 'up', topics: 1, partitions: 1, primaries: 1, minReplicas: 0, truncated: false } } },
    });

    const metrics = await host.request('GET', '/metrics', { token: 'viewer' });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metrics.body).toContain('brook_partition_high_offset{topic="tracked",partition="0"} 0');
    expect(metrics.body).toContain('brook_controller_leader 1');
    expect(metrics.body).toContain('brook_process_cpu_user_seconds_total');

    const docs = await host.request('GET', '/docs-json', { token: null });
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths).sort()).toEqual([
      '/api/v1/cluster',
      '/api/v1/controller',
      '/api/v1/dead-letters',
      '/api/v1/dead-letters/audit',
      '/api/v1/dead-letters/count',
      '/api/v1/dead-letters/purge',
      '/api/v1/dead-letters/replay',
      '/api/v1/dead-letters/replays',
      '/api/v1/dead-letters/replays/{id}',
      '/api/v1/dead-letters/replays/{id}/cancel',
      '/api/v1/dead-letters/retention',
      '/api/v1/dead-letters/skip',
      '/api/v1/dead-letters/{id}',
      '/api/v1/groups',
      '/api/v1/groups/{group}',
      '/api/v1/groups/{group}/topics/{topic}',
      '/api/v1/groups/{group}/topics/{topic}/lag-history',
      '/api/v1/groups/{group}/topics/{topic}/reset-offsets',
      '/api/v1/session',
      '/api/v1/topics',
      '/api/v1/topics/{topic}',
      '/api/v1/topics/{topic}/messages',
      '/api/v1/topics/{topic}/partitions',
      '/api/v1/topics/{topic}/partitions/{partition}/messages',
      '/health',
      '/metrics',
    ]);
    expect((await host.request('GET', '/docs', { token: null })).body).toContain('swagger-ui');
  });

  it('hands the controller over without waiting for the lease to expire when a host shuts down', async () => {
    const first = await startTestHost({ controllerLeaseMs: 3_000, hostId: 'first' });
    // The first host campaigns in the background once it has started: let it win before the second one starts.
    await waitFor(async () => (await first.request('GET', '/api/v1/controller')).body.isLeader, { message: 'the first host to lead' });
    const second = await startTestHost({ prefix: first.prefix, controllerLeaseMs: 3_000, hostId: 'second' });
    await waitFor(async () => (await second.request('GET', '/api/v1/controller')).body.leader?.holderId === 'first', { message: 'the second host to see the first lead' });
    expect((await second.request('GET', '/api/v1/controller')).body.isLeader).toBe(false);
    const closedAt = Date.now();
    await first.close();
    await waitFor(async () => (await second.request('GET', '/api/v1/controller')).body.isLeader, { message: 'the second host to lead' });
    // Within one renewal interval (a third of the lease): the first host released the lease on shutdown.
    expect(Date.now() - closedAt).toBeLessThan(2_000);
  });
});
