import { describe, expect, it } from 'vitest';
import { uniqueName } from '../support/brook.js';
import { topicWithDeadLetters } from './fixtures.js';
import { HOSTILE_NAMES } from './hostile-values.js';
import { startTestHost, type Reply, type TestHost } from './host.js';

/** Page sizes, offsets and partitions that are not a bounded non-negative integer. */
const BAD_LIMITS = ['0', '1001', '-1', 'abc', '1.5', '1e3', '0x10', '', '99999999999999999999'];
const BAD_OFFSETS = ['-1', 'abc', '1.5', '1e3', '9007199254740992', ' 1'];

function expectBadRequest(reply: Reply, what: string): void {
  expect(reply.status, `${what}: ${JSON.stringify(reply.body)}`).toBe(400);
  expect(reply.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: expect.any(String), message: expect.any(String) });
  expect(reply.body.message.length).toBeGreaterThan(10);
}

async function hostWithDeadLetters(): Promise<{ host: TestHost; topic: string; id: string }> {
  const host = await startTestHost();
  const { topic, deadLetters } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 1, passing: 0 });
  return { host, topic, id: deadLetters[0].deadLetterId };
}

describe('broker host input validation', () => {
  it('answers hostile topic and group names in paths, queries and bodies with 400, naming the rule', async () => {
    const { host, topic } = await hostWithDeadLetters();
    for (const name of HOSTILE_NAMES) {
      const segment = encodeURIComponent(name);
      const query = encodeURIComponent(name);
      const requests: Array<[string, string, unknown?]> = [
        ['GET', `/api/v1/topics/${segment}`],
        ['DELETE', `/api/v1/topics/${segment}`],
        ['POST', `/api/v1/topics/${segment}/partitions`, { partitions: 2 }],
        ['GET', `/api/v1/topics/${segment}/partitions/0/messages`],
        ['POST', `/api/v1/topics/${segment}/messages`, { messages: [{ value: 1 }] }],
        ['GET', `/api/v1/groups/${segment}`],
        ['GET', `/api/v1/groups/${segment}/topics/${topic}`],
        ['GET', `/api/v1/groups/billing/topics/${segment}`],
        ['POST', `/api/v1/groups/${segment}/topics/${topic}/reset-offsets`, { to: 'earliest' }],
        ['GET', `/api/v1/dead-letters?topic=${query}&group=billing`],
        ['GET', `/api/v1/dead-letters?topic=${topic}&group=${query}`],
        ['GET', `/api/v1/dead-letters/count?topic=${query}`],
        ['GET', `/api/v1/dead-letters/0-1-0?topic=${topic}&group=${query}`],
        ['POST', '/api/v1/topics', { topic: name, partitions: 1 }],
        ['POST', '/api/v1/dead-letters/replay', { topic: name, group: 'billing', all: true }],
        ['POST', '/api/v1/dead-letters/purge', { topic, group: name, all: true }],
      ];
      for (const [method, path, body] of requests) {
        const reply = await host.request(method, path, { body });
        if ((name === '.' || name === '..') && path.split('?')[0].includes(`/${segment}`)) {
          // URLs resolve '.' and '..' segments (fetch before sending, Express on receipt): such a path
          // is another route or none, and never reaches a handler as a name. Queries and bodies cover them.
          expect(reply.status, `${method} ${path}`).toBeLessThan(500);
          continue;
        }
        expectBadRequest(reply, `${method} ${path}`);
        expect(reply.body.message, `${method} ${path}`).toMatch(/name/);
      }
    }
    expect((await host.request('GET', '/api/v1/topics')).body.topics).toEqual([{ topic, partitions: 2 }]);
  });

  it('answers bad page sizes, offsets, partitions, cursors and dead-letter ids with 400', async () => {
    const { host, topic } = await hostWithDeadLetters();
    const scope = `topic=${topic}&group=billing`;
    for (const limit of [...BAD_LIMITS, '1&limit=2']) {
      expectBadRequest(await host.request('GET', `/api/v1/dead-letters?${scope}&limit=${limit}`), `dead letters limit=${limit}`);
      expectBadRequest(await host.request('GET', `/api/v1/dead-letters/audit?limit=${limit}`), `audit limit=${limit}`);
      expectBadRequest(await host.request('GET', `/api/v1/topics/${topic}/partitions/0/messages?limit=${limit}`), `messages limit=${limit}`);
    }
    for (const offset of BAD_OFFSETS) {
      expectBadRequest(await host.request('GET', `/api/v1/topics/${topic}/partitions/0/messages?offset=${encodeURIComponent(offset)}`), `offset=${offset}`);
    }
    for (const partition of ['-1', 'abc', '1.5', '2', '99999', '0x1']) {
      expectBadRequest(await host.request('GET', `/api/v1/topics/${topic}/partitions/${partition}/messages`), `partition ${partition}`);
      expectBadRequest(await host.request('GET', `/api/v1/dead-letters?${scope}&partition=${partition}`), `dead letters partition=${partition}`);
    }
    for (const cursor of ['garbage', '9:1-0', '0:abc', 'x'.repeat(41), '-1:0-1']) {
      expectBadRequest(await host.request('GET', `/api/v1/dead-letters?${scope}&cursor=${encodeURIComponent(cursor)}`), `cursor ${cursor}`);
      expectBadRequest(await host.request('GET', `/api/v1/dead-letters/audit?cursor=${encodeURIComponent(cursor)}`), `audit cursor ${cursor}`);
    }
    for (const id of ['abc', '0-1', '1-2-3-4', '99999999-1-0', '0--1-0', '../0-1-0', 'x'.repeat(100)]) {
      expectBadRequest(await host.request('GET', `/api/v1/dead-letters/${encodeURIComponent(id)}?${scope}`), `id ${id}`);
      expectBadRequest(await host.request('POST', '/api/v1/dead-letters/replay', { body: { topic, group: 'billing', ids: [id] } }), `replay id ${id}`);
      expectBadRequest(await host.request('POST', '/api/v1/dead-letters/purge', { body: { topic, group: 'billing', ids: [id] } }), `purge id ${id}`);
    }
    // A well-formed id on a partition the topic does not have: no such dead letter to read, and a selection to refuse.
    expect((await host.request('GET', `/api/v1/dead-letters/5-1-0?${scope}`)).status).toBe(404);
    expectBadRequest(await host.request('POST', '/api/v1/dead-letters/replay', { body: { topic, group: 'billing', ids: ['5-1-0'] } }), 'replay on partition 5');
    expectBadRequest(await host.request('GET', `/api/v1/dead-letters?${scope}&reason=boredom`), 'reason');
    expectBadRequest(await host.request('GET', `/api/v1/dead-letters?${scope}&limit=10&limt=10`), 'unknown query parameter');
    expectBadRequest(await host.request('GET', `/api/v1/dead-letters?topic=${topic}`), 'missing group');
  });

  it('answers malformed bodies with 400 and never a 500', async () => {
    const { host, topic, id } = await hostWithDeadLetters();
    const bodies: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/topics', { topic: { $ne: '' } }],
      ['POST', '/api/v1/topics', { topic: ['a'] }],
      ['POST', '/api/v1/topics', { topic: 'ok-name', partitions: 0 }],
      ['POST', '/api/v1/topics', { topic: 'ok-name', partitions: 5_000 }],
      ['POST', '/api/v1/topics', { topic: 'ok-name', partitions: '2' }],
      ['POST', '/api/v1/topics', { topic: 'ok-name', retention: { maxAgeMs: -1 } }],
      ['POST', '/api/v1/topics', { topic: 'ok-name', retention: 'forever' }],
      ['POST', '/api/v1/topics', { topic: 'ok-name', admin: true }],
      ['POST', '/api/v1/topics', JSON.parse('{"topic":"ok-name","__proto__":{"admin":true}}')],
      ['POST', '/api/v1/topics', null],
      ['POST', '/api/v1/topics', []],
      ['POST', '/api/v1/topics', 'a string'],
      ['POST', `/api/v1/topics/${topic}/partitions`, { partitions: 1 }],
      ['POST', `/api/v1/topics/${topic}/partitions`, { partitions: -3 }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: [] }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: Array.from({ length: 1_001 }, () => ({ value: 1 })) }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: [{}] }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: [{ value: 1, valueBase64: 'AA==' }] }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: [{ valueBase64: 'not base64!' }] }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: [{ value: 1, headers: { n: 1 } }] }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: [{ value: 1, headers: ['x'] }] }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: [{ value: 1, partition: 7 }] }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: [{ value: 1, key: 42 }] }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: [{ value: 1, timestamp: -5 }] }],
      ['POST', `/api/v1/topics/${topic}/messages`, { messages: 'all of them' }],
      ['POST', `/api/v1/groups/billing/topics/${topic}/reset-offsets`, {}],
      ['POST', `/api/v1/groups/billing/topics/${topic}/reset-offsets`, { to: 'earliest', offset: 3 }],
      ['POST', `/api/v1/groups/billing/topics/${topic}/reset-offsets`, { to: 'yesterday' }],
      ['POST', `/api/v1/groups/billing/topics/${topic}/reset-offsets`, { offset: -1 }],
      ['POST', `/api/v1/groups/billing/topics/${topic}/reset-offsets`, { offset: 1, force: 'yes' }],
      ['POST', '/api/v1/dead-letters/replay', { topic, group: 'billing' }],
      ['POST', '/api/v1/dead-letters/replay', { topic, group: 'billing', ids: [id], all: true }],
      ['POST', '/api/v1/dead-letters/replay', { topic, group: 'billing', ids: [] }],
      ['POST', '/api/v1/dead-letters/replay', { topic, group: 'billing', ids: Array.from({ length: 1_001 }, () => id) }],
      ['POST', '/api/v1/dead-letters/replay', { topic, group: 'billing', ids: [7] }],
      ['POST', '/api/v1/dead-letters/replay', { topic, group: 'billing', all: true, to: 'everyone' }],
      ['POST', '/api/v1/dead-letters/replay', { topic, group: 'billing', all: 'true' }],
      ['POST', '/api/v1/dead-letters/replay', { topic, group: 'billing', all: true, actor: 'someone-else' }],
      ['POST', '/api/v1/dead-letters/purge', { topic, group: 'billing', ids: id }],
    ];
    for (const [method, path, body] of bodies) {
      const reply = await host.request(method, path, { rawBody: JSON.stringify(body) });
      expectBadRequest(reply, `${method} ${path} ${JSON.stringify(body).slice(0, 80)}`);
    }
    for (const raw of ['{', '{"topic": "x",}', 'topic=x', '\u0000']) {
      expectBadRequest(await host.request('POST', '/api/v1/topics', { rawBody: raw }), `raw body ${JSON.stringify(raw)}`);
    }
    // Nothing was written: the dead letter is still there and no topic appeared.
    expect((await host.brook.admin().deadLetters.count()).total).toBe(1);
    expect((await host.brook.admin().listTopics()).map((t) => t.topic)).toEqual([topic]);
  });

  it('answers unknown topics, groups and dead letters with 404 and conflicts with 409', async () => {
    const { host, topic } = await hostWithDeadLetters();
    const missing = uniqueName('missing');
    const notFound: Array<[string, string, unknown?, string?]> = [
      ['GET', `/api/v1/topics/${missing}`, undefined, 'UNKNOWN_TOPIC'],
      ['DELETE', `/api/v1/topics/${missing}`, undefined, 'UNKNOWN_TOPIC'],
      ['POST', `/api/v1/topics/${missing}/partitions`, { partitions: 3 }, 'UNKNOWN_TOPIC'],
      ['GET', `/api/v1/topics/${missing}/partitions/0/messages`, undefined, 'UNKNOWN_TOPIC'],
      ['POST', `/api/v1/topics/${missing}/messages`, { messages: [{ value: 1 }] }, 'UNKNOWN_TOPIC'],
      ['GET', `/api/v1/groups/${missing}`, undefined, 'UNKNOWN_GROUP'],
      ['GET', `/api/v1/groups/${missing}/topics/${topic}`, undefined, 'UNKNOWN_GROUP'],
      ['GET', `/api/v1/groups/billing/topics/${missing}`, undefined, 'UNKNOWN_TOPIC'],
      ['POST', `/api/v1/groups/${missing}/topics/${topic}/reset-offsets`, { to: 'latest' }, 'UNKNOWN_GROUP'],
      ['GET', `/api/v1/dead-letters?topic=${topic}&group=${missing}`, undefined, 'UNKNOWN_GROUP'],
      ['GET', `/api/v1/dead-letters?topic=${missing}&group=billing`, undefined, 'UNKNOWN_TOPIC'],
      ['GET', `/api/v1/dead-letters/count?group=${missing}`, undefined, 'UNKNOWN_GROUP'],
      ['GET', `/api/v1/dead-letters/1-1-0?topic=${topic}&group=billing`, undefined, 'NOT_FOUND'],
      ['POST', '/api/v1/dead-letters/replay', { topic, group: missing, all: true }, 'UNKNOWN_GROUP'],
      ['POST', '/api/v1/dead-letters/purge', { topic: missing, group: 'billing', all: true }, 'UNKNOWN_TOPIC'],
      ['GET', '/api/v1/nothing-here', undefined, 'NOT_FOUND'],
    ];
    for (const [method, path, body, code] of notFound) {
      const reply = await host.request(method, path, { body });
      expect(reply.status, `${method} ${path}`).toBe(404);
      expect(reply.body.code, `${method} ${path}`).toBe(code);
    }
    const conflict = await host.request('POST', '/api/v1/topics', { body: { topic, partitions: 5 } });
    expect(conflict).toMatchObject({ status: 409, body: { code: 'TOPIC_CONFLICT', message: expect.stringContaining('already exists with 2 partition') } });
    expect(await host.request('POST', `/api/v1/topics/${topic}/partitions`, { body: { partitions: 1 } })).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } });
  });

  it('limits the size of request bodies and of messages', async () => {
    const host = await startTestHost({ bodyLimitBytes: 64 * 1_024 });
    const topic = uniqueName('big');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    const tooBig = await host.request('POST', `/api/v1/topics/${topic}/messages`, { body: { messages: [{ value: 'x'.repeat(70 * 1_024) }] } });
    expect(tooBig).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('BROOK_BODY_LIMIT_BYTES') } });

    const roomy = await startTestHost({ prefix: host.prefix, bodyLimitBytes: 4 * 1_048_576 });
    const overMessageLimit = await roomy.request('POST', `/api/v1/topics/${topic}/messages`, { body: { messages: [{ value: 'x'.repeat(1_048_577) }] } });
    expect(overMessageLimit).toMatchObject({ status: 413, body: { code: 'MESSAGE_TOO_LARGE' } });
    expect((await host.brook.admin().describeTopic(topic)).partitions[0].highOffset).toBe(0);
  });
});
