import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rawRedis, uniqueName } from '../support/brook.js';
import { topicWithDeadLetters } from './fixtures.js';
import { PROTOTYPE_NAMES, produceBodyNested } from './hostile-values.js';
import { startTestHost, TOKENS, type Reply, type TestHost } from './host.js';
import { openRaw, requestHead } from './raw-http.js';
import { resolveHostOptions } from '../../apps/broker-host/src/config/host-options.js';
import { hostOptionsFromEnv } from '../../apps/broker-host/src/config/host-options.env.js';
import { translateRedisError } from '../../libs/broker/src/redis/connection.js';

function expectRefused(reply: Reply, status: number, what: string): void {
  expect(reply.status, `${what}: ${JSON.stringify(reply.body).slice(0, 300)}`).toBe(status);
  expect(reply.body).toMatchObject({ statusCode: status, code: expect.any(String), message: expect.any(String) });
}

async function peekOne(host: TestHost, topic: string, offset: number) {
  const page = await host.request('GET', `/api/v1/topics/${topic}/partitions/0/messages?offset=${offset}&limit=1`, { token: 'operator' });
  expect(page.status).toBe(200);
  return page.body.messages[0];
}

/** Sets `path` (dot-separated, numbers for array elements) of a copy of `body` to `value`. */
function withValueAt(body: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  let at: Record<string, unknown> = copy;
  for (const part of path.slice(0, -1)) at = at[part] as Record<string, unknown>;
  at[path[path.length - 1]] = value;
  return copy;
}

/** Every property path of a body: ['messages'], ['messages', '0'], ['messages', '0', 'key'], … */
function propertyPaths(body: unknown, prefix: string[] = []): string[][] {
  if (body === null || typeof body !== 'object') return [];
  return Object.entries(body).flatMap(([key, value]) => {
    const path = [...prefix, key];
    // A message's value and headers are user data, not fields of the API.
    if (key === 'value' || key === 'headers') return [path];
    return [path, ...propertyPaths(value, path)];
  });
}

describe('broker host under hostile input', () => {
  it('stores values and headers with keys named like Object.prototype members as sent (produce dropped constructor, toString, valueOf, … at any depth)', async () => {
    const host = await startTestHost();
    const topic = uniqueName('payloads');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    // Object.fromEntries defines own properties, '__proto__' included.
    const level = (inner: unknown) => Object.fromEntries(PROTOTYPE_NAMES.map((name) => [name, inner]));
    const value = { a: { constructor: 'x' }, deep: level(level([level('leaf')])), list: [level(null)] };
    const headers = Object.fromEntries(PROTOTYPE_NAMES.map((name) => [name, `h-${name}`]));

    const produced = await host.request('POST', `/api/v1/topics/${topic}/messages`, { token: 'operator', body: { messages: [{ key: 'constructor', value, headers, partition: 0 }] } });
    expect(produced.status, JSON.stringify(produced.body)).toBe(201);
    const message = await peekOne(host, topic, 0);
    expect(JSON.stringify(message.value)).toBe(JSON.stringify(value));
    expect(JSON.stringify(message.headers)).toBe(JSON.stringify(headers));
    expect(message.key).toBe('constructor');
    // The library reads the same bytes.
    const [stored] = (await host.brook.admin().readMessages({ topic, partition: 0 })).messages;
    expect(JSON.stringify(stored.value)).toBe(JSON.stringify(value));
    expect(Object.keys(stored.headers)).toEqual(Object.keys(headers));
  });

  it('answers the audit cursor 0-0 (also 00-0 and 0-00) with an empty page, not a 500, and maps Redis argument errors to INVALID_ARGUMENT', async () => {
    const host = await startTestHost();
    const { topic } = await topicWithDeadLetters(host.brook, { partitions: 1, failing: 1, passing: 0 });
    await host.request('POST', '/api/v1/dead-letters/purge', { body: { topic, group: 'billing', all: true } });
    for (const cursor of ['0-0', '00-0', '0-00', '000000000000000-000000000000000']) {
      const reply = await host.request('GET', `/api/v1/dead-letters/audit?cursor=${cursor}`, { token: 'viewer' });
      expect(reply, `cursor ${cursor}`).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
    }
    expect(await host.brook.admin().deadLetters.audit({ cursor: '0-0' })).toEqual({ items: [], nextCursor: null });
    // The smallest non-zero cursor still reads: nothing is older than 0-1 either.
    expect((await host.request('GET', '/api/v1/dead-letters/audit?cursor=0-1', { token: 'viewer' })).body).toEqual({ items: [], nextCursor: null });

    // What Redis answers to the range the cursor used to produce is the caller's mistake, not Brook's.
    const redis = rawRedis();
    const refused = await redis.xrevrange(`${host.prefix}:scratch`, '(0-0', '-').catch((error: unknown) => error);
    expect(String(refused)).toMatch(/invalid end ID/);
    expect(translateRedisError(refused, 'read the audit log', 'redis', 0)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('invalid end ID') });
  });

  it('answers null in every field that is not nullable with a 400 naming the field (valueBase64: null gave a 500)', async () => {
    const host = await startTestHost();
    const { topic, deadLetters, billing } = await topicWithDeadLetters(host.brook, { partitions: 1, failing: 1, passing: 0 });
    await billing.consumer.stop();
    const id = deadLetters[0].deadLetterId;
    const bodies: Array<[string, unknown, string?]> = [
      ['/api/v1/topics', { topic: uniqueName('scratch'), partitions: 1, retention: { maxMessages: 10, maxAgeMs: 60_000 } }],
      [`/api/v1/topics/${topic}/partitions`, { partitions: 1 }],
      [`/api/v1/topics/${topic}/messages`, { messages: [{ key: 'k', value: 1, headers: { a: 'b' }, partition: 0, timestamp: 1 }] }],
      [`/api/v1/topics/${topic}/messages`, { messages: [{ valueBase64: 'AA==' }] }],
      [`/api/v1/groups/billing/topics/${topic}/reset-offsets`, { to: 'earliest', force: true }],
      [`/api/v1/groups/billing/topics/${topic}/reset-offsets`, { offset: 0 }],
      [`/api/v1/groups/billing/topics/${topic}/reset-offsets`, { timestamp: 0 }],
      ['/api/v1/dead-letters/replay', { topic, group: 'billing', ids: [id], to: 'group' }],
      ['/api/v1/dead-letters/replay', { topic, group: 'billing', all: true }],
      ['/api/v1/dead-letters/purge', { topic, group: 'billing', ids: [id] }],
      [
        '/api/v1/dead-letters/replay',
        {
          topic, group: 'billing', dryRun: true, maxReplays: 3, force: false, maxPerSecond: 10,
          filter: { partition: 0, reason: 'handler-error', errorName: 'Error', errorMessage: 'x', key: 'k', fromOffset: 0, toOffset: 5, from: 0, to: 5, parked: false },
        },
      ],
      ['/api/v1/dead-letters/skip', { topic, group: 'billing', partition: 0 }],
      ['/api/v1/dead-letters/retention', { topic, group: 'billing', maxAgeMs: 1_000, maxCount: 5 }, 'PUT'],
    ];
    const components = requestBodySchemas((await host.request('GET', '/docs-json', { token: null })).body);
    const nullable = new Set(Object.values(components.schemas).flatMap((schema) => Object.entries(schema.properties).filter(([, property]) => property.nullable).map(([name]) => name)));
    expect([...nullable].sort()).toEqual(['key', 'maxAgeMs', 'maxMessages', 'value']);

    const covered = new Set<string>();
    for (const [path, body, method = 'POST'] of bodies) {
      for (const field of propertyPaths(body)) {
        const name = field[field.length - 1];
        if (/^\d+$/.test(name) || nullable.has(name)) continue;
        covered.add(name);
        const reply = await host.request(method, path, { body: withValueAt(body, field, null) });
        expectRefused(reply, 400, `${path} with ${field.join('.')}: null`);
        expect(reply.body.message, `${path} with ${field.join('.')}: null`).toContain(name);
      }
    }
    // Every field of every body schema was tried.
    const declared = Object.values(components.schemas).flatMap((schema) => Object.keys(schema.properties ?? {}));
    expect([...covered, ...nullable].sort()).toEqual([...new Set(declared)].sort());

    // The nullable ones take null.
    const scratch = uniqueName('scratch');
    expect((await host.request('POST', '/api/v1/topics', { body: { topic: scratch, retention: { maxMessages: null, maxAgeMs: null } } })).status).toBe(201);
    expect((await host.request('POST', `/api/v1/topics/${scratch}/messages`, { body: { messages: [{ key: null, value: null }] } })).status).toBe(201);
  });

  it('refuses an array where an object belongs (retention: [{ maxMessages: 5 }] created a topic with unlimited retention)', async () => {
    const host = await startTestHost();
    const topic = uniqueName('typed');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    const scratch = uniqueName('scratch');
    const cases: Array<[string, unknown, string]> = [
      ['/api/v1/topics', { topic: scratch, retention: [{ maxMessages: 5 }] }, 'retention'],
      ['/api/v1/topics', { topic: scratch, retention: [] }, 'retention'],
      ['/api/v1/topics', { topic: scratch, retention: 'forever' }, 'retention'],
      ['/api/v1/topics', { topic: [scratch] }, 'topic'],
      [`/api/v1/topics/${topic}/messages`, { messages: { 0: { value: 1 } } }, 'messages'],
      [`/api/v1/topics/${topic}/messages`, { messages: [[{ value: 1 }]] }, 'messages'],
      [`/api/v1/topics/${topic}/messages`, { messages: [{ value: 1, headers: [['a', 'b']] }] }, 'headers'],
      [`/api/v1/topics/${topic}/messages`, { messages: [{ value: 1, headers: { a: ['b'] } }] }, 'headers'],
      [`/api/v1/topics/${topic}/messages`, { messages: [{ value: 1, key: ['k'] }] }, 'key'],
      [`/api/v1/topics/${topic}/messages`, { messages: [{ valueBase64: ['AA=='] }] }, 'valueBase64'],
      ['/api/v1/dead-letters/purge', { topic, group: 'billing', ids: { 0: '0-1-0' } }, 'ids'],
    ];
    for (const [path, body, field] of cases) {
      const reply = await host.request('POST', path, { body });
      expectRefused(reply, 400, `${path} ${JSON.stringify(body)}`);
      expect(reply.body.message).toContain(field);
    }
    expect((await host.brook.admin().listTopics()).map((t) => t.topic)).toEqual([topic]);
    expect((await host.brook.admin().describeTopic(topic)).partitions[0].highOffset).toBe(0);
  });

  it('refuses unknown body and query fields named like Object.prototype members (constructor was dropped, not refused)', async () => {
    const host = await startTestHost();
    const { topic } = await topicWithDeadLetters(host.brook, { partitions: 1, failing: 1, passing: 0 });
    const scratch = uniqueName('scratch');
    for (const name of PROTOTYPE_NAMES) {
      const extra = { [name]: 'x' };
      const bodies: Array<[string, unknown, string?]> = [
        ['/api/v1/topics', { topic: scratch, ...extra }],
        ['/api/v1/topics', { topic: scratch, retention: { maxMessages: 5, ...extra } }],
        [`/api/v1/topics/${topic}/messages`, { messages: [{ value: 1, ...extra }] }],
        [`/api/v1/topics/${topic}/messages`, { messages: [{ value: 1 }], ...extra }],
        [`/api/v1/groups/billing/topics/${topic}/reset-offsets`, { to: 'latest', force: true, ...extra }],
        ['/api/v1/dead-letters/purge', { topic, group: 'billing', all: true, ...extra }],
      ];
      for (const [path, body] of bodies) {
        // Spread defines own properties, so '__proto__' is sent as a key too.
        const reply = await host.request('POST', path, { rawBody: JSON.stringify(body) });
        expectRefused(reply, 400, `${path} with '${name}'`);
        expect(reply.body.message).toContain(`property ${name} should not exist`);
      }
      for (const path of ['/api/v1/dead-letters/audit', `/api/v1/dead-letters?topic=${topic}&group=billing`, `/api/v1/topics/${topic}/partitions/0/messages`]) {
        const reply = await host.request('GET', `${path}${path.includes('?') ? '&' : '?'}${encodeURIComponent(name)}=1`);
        expectRefused(reply, 400, `${path} with ?${name}`);
        expect(reply.body.message).toContain(`property ${name} should not exist`);
      }
    }
    expect((await host.brook.admin().listTopics()).map((t) => t.topic)).toEqual([topic]);
    expect((await host.brook.admin().deadLetters.count()).total).toBe(1);
    expect((await host.brook.admin().describeTopic(topic)).partitions[0].highOffset).toBe(1);
  });

  it('authenticates and rate-limits before reading a body (malformed, oversized and compressed bodies got past both)', async () => {
    const host = await startTestHost({ bodyLimitBytes: 64 * 1_024 });
    const topic = uniqueName('guarded');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    const path = `/api/v1/topics/${topic}/messages`;
    const bomb = gzipSync(Buffer.alloc(8 * 1_048_576, 0x20));

    // Without a token every one of them is a 401: nothing was read, parsed or inflated.
    expectRefused(await host.request('POST', path, { token: null, rawBody: '{"messages": [' }), 401, 'invalid JSON');
    const gzipped = await fetch(host.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb });
    expect(gzipped.status).toBe(401);
    const oversized = await openRaw(host.url);
    oversized.write(requestHead('POST', path, { 'Content-Type': 'application/json', 'Content-Length': 3_000_000 }) + '{"messages":[');
    expect((await oversized.response()).status).toBe(401);
    expect((await oversized.response()).headers.connection).toBe('close');
    await oversized.closed;
    // A client that waits for 100 Continue is refused without being asked for its body.
    const waiting = await openRaw(host.url);
    waiting.write(requestHead('POST', path, { 'Content-Type': 'application/json', 'Content-Length': 3_000_000, Expect: '100-continue' }));
    expect((await waiting.response()).status).toBe(401);
    await waiting.closed;
    expect(waiting.received()).not.toContain('100 Continue');

    // With a token, what the headers promise is checked before the body is read.
    const auth = { Authorization: `Bearer ${TOKENS.operator}`, 'Content-Type': 'application/json' };
    const tooLarge = await openRaw(host.url);
    tooLarge.write(requestHead('POST', path, { ...auth, 'Content-Length': 3_000_000 }) + '{"messages":[');
    expect(await tooLarge.response()).toMatchObject({ status: 413, headers: { connection: 'close' } });
    expect(JSON.parse((await tooLarge.response()).body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('BROOK_BODY_LIMIT_BYTES') });
    await tooLarge.closed;
    // A body of unannounced length is read up to the limit, then refused: one byte more is enough.
    const unannounced = await openRaw(host.url);
    unannounced.write(requestHead('POST', path, { ...auth, 'Transfer-Encoding': 'chunked' }));
    for (let i = 0; i < 4; i++) unannounced.write(`4000\r\n${'x'.repeat(0x4000)}\r\n`);
    unannounced.write('1\r\nx\r\n');
    expect(await unannounced.response()).toMatchObject({ status: 413, headers: { connection: 'close' } });
    await unannounced.closed;
    const compressed = await fetch(host.url + path, { method: 'POST', headers: { ...auth, 'content-encoding': 'gzip' }, body: bomb });
    expect(compressed.status).toBe(415);
    expect(await compressed.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('uncompressed') });
    expectRefused(await host.request('POST', path, { token: 'operator', rawBody: '{"messages":[{"value":1}]}', headers: { 'content-type': 'text/plain' } }), 415, 'text/plain');
    // A client that waits for 100 Continue and is let in is asked for its body.
    const body = JSON.stringify({ messages: [{ value: 'after 100 Continue' }] });
    const continued = await openRaw(host.url);
    continued.write(requestHead('POST', path, { ...auth, 'Content-Length': Buffer.byteLength(body), Expect: '100-continue' }));
    expect((await continued.response(1)).status).toBe(100);
    continued.write(body);
    expect((await continued.response(2)).status).toBe(201);
    expect((await host.brook.admin().describeTopic(topic)).partitions[0].highOffset).toBe(1);

    // Malformed bodies count against the rate limit like everything else: by token name, or by address without one.
    const limited = await startTestHost({ prefix: host.prefix, rateLimitPerMinute: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await limited.request('POST', path, { token: i % 2 === 0 ? null : 'operator', rawBody: '{"messages": [' })).status);
    expect(statuses).toEqual([401, 400, 401, 400, 429, 429, 429]);
  });

  it('closes stalled headers, stalled bodies and idle keep-alive connections after the configured timeouts (a stalled body was held open)', async () => {
    const timeouts = { headersTimeoutMs: 200, requestTimeoutMs: 400, keepAliveTimeoutMs: 200 };
    const host = await startTestHost(timeouts);
    // Node checks expired requests every quarter of the headers timeout, and adds a second to keep-alive.
    const slackMs = 1_000;

    const stalledBody = await openRaw(host.url);
    stalledBody.write(requestHead('POST', '/api/v1/topics', { Authorization: `Bearer ${TOKENS.admin}`, 'Content-Type': 'application/json', 'Content-Length': 1_000 }) + '{"topic":');
    const bodyClosedMs = await stalledBody.closed;
    expect(bodyClosedMs).toBeGreaterThanOrEqual(timeouts.requestTimeoutMs - 50);
    expect(bodyClosedMs).toBeLessThan(timeouts.requestTimeoutMs + slackMs);
    const timedOut = stalledBody.responses()[0];
    expect(timedOut.status).toBe(408);
    expect(JSON.parse(timedOut.body)).toMatchObject({ statusCode: 408, code: 'REQUEST_TIMEOUT', message: expect.stringContaining('BROOK_REQUEST_TIMEOUT_MS') });

    const stalledHeaders = await openRaw(host.url);
    stalledHeaders.write('POST /api/v1/topics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const headersClosedMs = await stalledHeaders.closed;
    expect(headersClosedMs).toBeLessThan(timeouts.headersTimeoutMs + slackMs);
    expect(stalledHeaders.responses()[0].status).toBe(408);

    const silent = await openRaw(host.url);
    expect(await silent.closed).toBeLessThan(timeouts.headersTimeoutMs + slackMs);

    const idle = await openRaw(host.url);
    idle.write(requestHead('GET', '/api/v1/topics', { Authorization: `Bearer ${TOKENS.viewer}` }));
    expect((await idle.response()).status).toBe(200);
    expect(await idle.closed).toBeLessThan(timeouts.keepAliveTimeoutMs + 2 * slackMs);

    // Configurable from the environment; the headers cannot be given longer than the whole request.
    expect(resolveHostOptions({})).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 });
    const env = { BROOK_HEADERS_TIMEOUT_MS: '5000', BROOK_REQUEST_TIMEOUT_MS: '20000', BROOK_KEEP_ALIVE_TIMEOUT_MS: '4000' };
    expect(resolveHostOptions(hostOptionsFromEnv(env))).toMatchObject({ headersTimeoutMs: 5_000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 4_000 });
    expect(() => resolveHostOptions(hostOptionsFromEnv({ ...env, BROOK_HEADERS_TIMEOUT_MS: '60000' }))).toThrow(/BROOK_HEADERS_TIMEOUT_MS.*BROOK_REQUEST_TIMEOUT_MS/);
    expect(() => hostOptionsFromEnv({ BROOK_REQUEST_TIMEOUT_MS: '30s' })).toThrow(/BROOK_REQUEST_TIMEOUT_MS must be a non-negative integer/);
  });

  it('answers what the HTTP server refuses itself — malformed requests, oversized headers — as JSON and closes the connection', async () => {
    const host = await startTestHost();
    const cases: Array<[string, number]> = [
      ['GARBAGE\r\n\r\n', 400],
      ['GET /api/v1/topics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n', 400],
      [requestHead('GET', '/api/v1/topics', { Authorization: `Bearer ${TOKENS.viewer}`, 'X-Padding': 'x'.repeat(20_000) }), 431],
    ];
    for (const [raw, status] of cases) {
      const connection = await openRaw(host.url);
      connection.write(raw);
      const response = await connection.response();
      expect(response, JSON.stringify(raw.slice(0, 40))).toMatchObject({ status, headers: { 'content-type': expect.stringContaining('application/json'), connection: 'close' } });
      expect(JSON.parse(response.body)).toMatchObject({ statusCode: status, code: expect.any(String), message: expect.any(String) });
      await connection.closed;
    }
  });

  it('refuses JSON nested deeper than 100 levels with a 400 naming the limit (3,000 levels leaked "Maximum call stack size exceeded")', async () => {
    const host = await startTestHost();
    const topic = uniqueName('deep');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    const path = `/api/v1/topics/${topic}/messages`;
    for (const depth of [98, 3_000, 500_000]) {
      const reply = await host.request('POST', path, { rawBody: produceBodyNested(depth) });
      expectRefused(reply, 400, `${depth} levels`);
      expect(reply.body.message).toContain('deeper than 100 levels');
      expect(reply.body.message).not.toMatch(/call stack/i);
    }
    // Up to the limit, the value is stored as sent.
    expect((await host.request('POST', path, { rawBody: produceBodyNested(97) })).status).toBe(201);
    expect(JSON.stringify((await peekOne(host, topic, 0)).value)).toBe(`${'['.repeat(97)}${']'.repeat(97)}`);
  });

  it('refuses JSON it could not store as sent instead of changing it: duplicate keys, numbers a double cannot hold, invalid UTF-8, lone surrogates in text', async () => {
    const host = await startTestHost();
    const topic = uniqueName('exact');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    const path = `/api/v1/topics/${topic}/messages`;
    const refused: Array<[string, string | Buffer, RegExp]> = [
      ['duplicate key', '{"messages":[{"value":{"a":1,"a":2}}]}', /key "a" twice.*messages\.0\.value/],
      ['duplicate key spelled with an escape', '{"messages":[{"value":{"a":1,"\\u0061":2}}]}', /key "a" twice/],
      ['duplicate field', '{"messages":[{"value":1}],"messages":[]}', /key "messages" twice/],
      ['integer beyond 2^53', '{"messages":[{"value":{"id":12345678901234567890}}]}', /12345678901234567890 .*messages\.0\.value\.id.*12345678901234567000/],
      ['overflow', '{"messages":[{"value":1e400}]}', /1e400 .*become null/],
      ['underflow', '{"messages":[{"value":[1e-400]}]}', /1e-400 .*become 0/],
      ['too many digits', '{"messages":[{"value":0.30000000000000001}]}', /become 0\.3/],
      ['invalid UTF-8', Buffer.concat([Buffer.from('{"messages":[{"value":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]), /not valid UTF-8/],
      ['lone surrogate in a text value', '{"messages":[{"value":"\\ud800"}]}', /messages\.0\.value.*lone UTF-16 surrogate/],
      ['lone surrogate in a key', '{"messages":[{"key":"a\\udc00","value":1}]}', /messages\.0\.key.*lone UTF-16 surrogate/],
    ];
    for (const [what, body, message] of refused) {
      const response = await fetch(host.url + path, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json' }, body });
      const reply: Reply = { status: response.status, headers: response.headers, body: await response.json() };
      expectRefused(reply, 400, what);
      expect(reply.body.message, what).toMatch(message);
    }
    expect((await host.brook.admin().describeTopic(topic)).partitions[0].highOffset).toBe(0);

    // What JSON.stringify writes is kept: numbers in any notation with the same value, lone surrogates inside JSON, a byte order mark.
    const kept = [{ value: [1.0, 1e2, 0.1, -0, 5e-324, 1.7976931348623157e308, 2 ** 53, 'x\ud800y', { '\udc00': '__proto__' }] }, { value: JSON.parse('{"__proto__":1}'), headers: { '\ud800': '\udfff' } }];
    const text = '\ufeff' + JSON.stringify({ messages: kept }).replace('"__proto__":1', '"__proto__":1.0');
    expect((await host.request('POST', path, { rawBody: text })).status).toBe(201);
    expect(JSON.stringify((await peekOne(host, topic, 0)).value)).toBe(JSON.stringify(kept[0].value));
    const second = await peekOne(host, topic, 1);
    expect(JSON.stringify(second.value)).toBe('{"__proto__":1}');
    expect(JSON.stringify(second.headers)).toBe(JSON.stringify(kept[1].headers));
  });
});

type PropertySchema = { nullable?: boolean; $ref?: string; items?: PropertySchema; allOf?: PropertySchema[]; oneOf?: PropertySchema[]; anyOf?: PropertySchema[] };
type ObjectSchema = { properties: Record<string, PropertySchema> };

/** The component schemas request bodies use, directly or nested; response schemas are left out. */
function requestBodySchemas(document: {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: PropertySchema }> } }>>;
  components: { schemas: Record<string, ObjectSchema> };
}): { schemas: Record<string, ObjectSchema> } {
  const schemas: Record<string, ObjectSchema> = {};
  const visit = (schema: PropertySchema | undefined): void => {
    if (schema === undefined) return;
    if (schema.items) visit(schema.items);
    for (const part of [...(schema.allOf ?? []), ...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) visit(part);
    if (schema.$ref === undefined) return;
    const name = schema.$ref.split('/').pop()!;
    if (name in schemas) return;
    schemas[name] = document.components.schemas[name];
    for (const property of Object.values(schemas[name].properties ?? {})) visit(property);
  };
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations)) for (const content of Object.values(operation.requestBody?.content ?? {})) visit(content.schema);
  }
  return { schemas };
}
