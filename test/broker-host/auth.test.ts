import { describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../support/brook.js';
import { topicWithDeadLetters } from './fixtures.js';
import { send, startTestHost, TOKENS, type TestHost } from './host.js';
import { schemaViolations } from './openapi-schema.js';
import { parseAdminTokens, TokenVerifier } from '../../apps/broker-host/src/auth/admin-tokens.js';
import { resolveHostOptions } from '../../apps/broker-host/src/config/host-options.js';
import { hostOptionsFromEnv } from '../../apps/broker-host/src/config/host-options.env.js';

type Role = keyof typeof TOKENS;

interface Endpoint {
  /** As the OpenAPI document names it, e.g. 'GET /api/v1/topics/{topic}'. */
  route: string;
  method: string;
  path: string;
  body?: unknown;
  /** The least role that may call it. */
  role: Role;
  /** The status the allowed call answers when not 2xx (the request is valid but has nothing to act on). */
  status?: number;
}

/**
 * Every endpoint of the API with a valid request and the least role it needs. Ordered so that
 * destructive calls come after the ones that need their data.
 */
function endpoints(topic: string, deadLetterId: string, scratch: string, jobId: string): Endpoint[] {
  const scope = `topic=${topic}&group=billing`;
  return [
    { route: 'GET /api/v1/topics', method: 'GET', path: '/api/v1/topics', role: 'viewer' },
    { route: 'GET /api/v1/topics/{topic}', method: 'GET', path: `/api/v1/topics/${topic}`, role: 'viewer' },
    { route: 'GET /api/v1/groups', method: 'GET', path: '/api/v1/groups', role: 'viewer' },
    { route: 'GET /api/v1/groups/{group}', method: 'GET', path: '/api/v1/groups/billing', role: 'viewer' },
    { route: 'GET /api/v1/groups/{group}/topics/{topic}', method: 'GET', path: `/api/v1/groups/billing/topics/${topic}`, role: 'viewer' },
    { route: 'GET /api/v1/groups/{group}/topics/{topic}/lag-history', method: 'GET', path: `/api/v1/groups/billing/topics/${topic}/lag-history`, role: 'viewer' },
    { route: 'GET /api/v1/dead-letters/count', method: 'GET', path: '/api/v1/dead-letters/count', role: 'viewer' },
    { route: 'GET /api/v1/dead-letters/audit', method: 'GET', path: '/api/v1/dead-letters/audit', role: 'viewer' },
    { route: 'GET /api/v1/cluster', method: 'GET', path: '/api/v1/cluster', role: 'viewer' },
    { route: 'GET /api/v1/dead-letters/replays', method: 'GET', path: '/api/v1/dead-letters/replays', role: 'viewer' },
    { route: 'GET /api/v1/dead-letters/replays/{id}', method: 'GET', path: `/api/v1/dead-letters/replays/${jobId}`, role: 'viewer' },
    { route: 'GET /api/v1/dead-letters/retention', method: 'GET', path: `/api/v1/dead-letters/retention?${scope}`, role: 'viewer' },
    { route: 'GET /api/v1/controller', method: 'GET', path: '/api/v1/controller', role: 'viewer' },
    { route: 'GET /api/v1/session', method: 'GET', path: '/api/v1/session', role: 'viewer' },
    { route: 'GET /metrics', method: 'GET', path: '/metrics', role: 'viewer' },
    { route: 'GET /api/v1/topics/{topic}/partitions/{partition}/messages', method: 'GET', path: `/api/v1/topics/${topic}/partitions/0/messages?timestamp=0`, role: 'operator' },
    { route: 'POST /api/v1/topics/{topic}/messages', method: 'POST', path: `/api/v1/topics/${topic}/messages`, body: { messages: [{ key: 'k', value: { id: 99 } }] }, role: 'operator' },
    { route: 'GET /api/v1/dead-letters', method: 'GET', path: `/api/v1/dead-letters?${scope}`, role: 'operator' },
    { route: 'GET /api/v1/dead-letters/{id}', method: 'GET', path: `/api/v1/dead-letters/${deadLetterId}?${scope}`, role: 'operator' },
    { route: 'POST /api/v1/dead-letters/replay', method: 'POST', path: '/api/v1/dead-letters/replay', body: { topic, group: 'billing', ids: [deadLetterId] }, role: 'operator' },
    { route: 'POST /api/v1/dead-letters/replays/{id}/cancel', method: 'POST', path: `/api/v1/dead-letters/replays/${jobId}/cancel`, role: 'operator' },
    { route: 'DELETE /api/v1/dead-letters/replays/{id}', method: 'DELETE', path: `/api/v1/dead-letters/replays/${jobId}`, role: 'operator' },
    // Nothing is stuck (the consumer stopped): the call is allowed, and answered 400.
    { route: 'POST /api/v1/dead-letters/skip', method: 'POST', path: '/api/v1/dead-letters/skip', body: { topic, group: 'billing', partition: 0 }, role: 'operator', status: 400 },
    { route: 'POST /api/v1/topics', method: 'POST', path: '/api/v1/topics', body: { topic: scratch, partitions: 1 }, role: 'admin' },
    { route: 'POST /api/v1/topics/{topic}/partitions', method: 'POST', path: `/api/v1/topics/${scratch}/partitions`, body: { partitions: 2 }, role: 'admin' },
    { route: 'POST /api/v1/groups/{group}/topics/{topic}/reset-offsets', method: 'POST', path: `/api/v1/groups/billing/topics/${topic}/reset-offsets`, body: { to: 'latest' }, role: 'admin' },
    { route: 'PUT /api/v1/dead-letters/retention', method: 'PUT', path: '/api/v1/dead-letters/retention', body: { topic, group: 'billing', maxAgeMs: 86_400_000 }, role: 'admin' },
    { route: 'POST /api/v1/dead-letters/purge', method: 'POST', path: '/api/v1/dead-letters/purge', body: { topic, group: 'billing', all: true }, role: 'admin' },
    { route: 'DELETE /api/v1/topics/{topic}', method: 'DELETE', path: `/api/v1/topics/${scratch}`, role: 'admin' },
    { route: 'DELETE /api/v1/groups/{group}', method: 'DELETE', path: '/api/v1/groups/billing', role: 'admin' },
  ];
}

const BELOW: Record<Role, Role[]> = { viewer: [], operator: ['viewer'], admin: ['viewer', 'operator'] };

async function hostWithData(): Promise<{ host: TestHost; list: Endpoint[] }> {
  const host = await startTestHost();
  const { topic, billing, deadLetters } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 2 });
  // Offsets can only be reset without live members.
  await billing.consumer.stop();
  // A replay job to follow and cancel (no controller runs it here: the test host's interval is long).
  const job = await host.brook.admin().deadLetters.jobs.start({ topic, group: 'billing', partitions: 2, filter: { errorName: 'NoSuchError' }, maxReplays: 3, maxPerSecond: 10, actor: 'test' });
  return { host, list: endpoints(topic, deadLetters[0].deadLetterId, uniqueName('scratch'), job.id) };
}

describe('broker host authentication and roles', () => {
  it('answers 401 without a token or with a wrong one, 403 below the needed role and 2xx from it, on every endpoint, with the documented bodies', async () => {
    const { host, list } = await hostWithData();
    const document = (await host.request('GET', '/docs-json', { token: null })).body;
    for (const endpoint of list) {
      const { method, path, body, role } = endpoint;
      const row = (token: Parameters<TestHost['request']>[2]) => host.request(method, path, { ...token, body });
      const none = await row({ token: null });
      const wrong = await row({ token: { raw: 'not-a-configured-token-at-all' } });
      const below = await Promise.all(BELOW[role].map((lower) => row({ token: lower })));
      const allowed = await row({ token: role });
      expect(none.status, `${method} ${path} without a token`).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="brook"');
      expect(none.body).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('Authorization: Bearer') });
      expect(wrong.status, `${method} ${path} with a wrong token`).toBe(401);
      for (const [i, reply] of below.entries()) {
        expect(reply.status, `${method} ${path} as ${BELOW[role][i]}`).toBe(403);
        expect(reply.body.message).toContain(`needs ${role} or above`);
      }
      if (endpoint.status !== undefined) {
        expect(allowed.status, `${method} ${path} as ${role}: ${JSON.stringify(allowed.body)}`).toBe(endpoint.status);
        continue;
      }
      expect(allowed.status, `${method} ${path} as ${role}: ${JSON.stringify(allowed.body)}`).toBeGreaterThanOrEqual(200);
      expect(allowed.status).toBeLessThan(300);
      // Success and error bodies are what the OpenAPI document says they are.
      const operation = document.paths[endpoint.route.split(' ')[1]][method.toLowerCase()];
      for (const reply of [none, wrong, ...below, allowed]) {
        const schema = operation.responses[reply.status]?.content?.['application/json']?.schema;
        if (reply.status === 204 || endpoint.route === 'GET /metrics' && reply.status === 200) continue;
        expect(schema, `${endpoint.route} ${reply.status} is documented`).toBeDefined();
        expect(schemaViolations(document, schema, reply.body), `${endpoint.route} ${reply.status}`).toEqual([]);
      }
    }
    // Every endpoint but the public health check is in the matrix: a new one cannot skip it.
    const documented = Object.entries((await host.request('GET', '/docs-json')).body.paths as Record<string, object>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(list.map((endpoint) => endpoint.route).sort()).toEqual(documented.filter((route) => route !== 'GET /health').sort());
  });

  it('serves health and the API documentation without a token, and metrics too when configured public', async () => {
    const host = await startTestHost({ metricsPublic: true });
    expect((await host.request('GET', '/health', { token: null })).status).toBe(200);
    expect((await host.request('GET', '/docs-json', { token: null })).status).toBe(200);
    expect((await host.request('GET', '/metrics', { token: null })).status).toBe(200);
    expect((await host.request('GET', '/api/v1/topics', { token: null })).status).toBe(401);
  });

  it('refuses malformed authorization headers and tokens that only resemble a configured one', async () => {
    const host = await startTestHost();
    const attempts = [
      `Basic ${Buffer.from(`root:${TOKENS.admin}`).toString('base64')}`,
      `Bearer  ${TOKENS.admin}`,
      `Bearer ${TOKENS.admin} x`,
      `Bearer ${TOKENS.admin.slice(0, -1)}`,
      `Bearer ${TOKENS.admin}x`,
      `Bearer ${TOKENS.admin.toUpperCase()}`,
      'Bearer',
      `Bearer ${'x'.repeat(5_000)}`,
    ];
    for (const authorization of attempts) {
      const reply = await send(host.url, 'GET', '/api/v1/topics', { token: null, headers: { authorization } });
      expect(reply.status, authorization.slice(0, 40)).toBe(401);
    }
    expect((await send(host.url, 'GET', '/api/v1/topics', { token: null, headers: { authorization: `bearer ${TOKENS.viewer}` } })).status).toBe(200);
  });

  it('names the calling token as the actor of replays and purges in the audit log', async () => {
    const host = await startTestHost();
    const { topic, deadLetters } = await topicWithDeadLetters(host.brook, { partitions: 1, failing: 2 });
    await host.request('POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', ids: [deadLetters[0].deadLetterId] } });
    await waitFor(async () => (await host.brook.admin().deadLetters.count({ topic })).total === 2, { message: 'the replayed message to fail again' });
    await host.request('POST', '/api/v1/dead-letters/purge', { token: 'admin', body: { topic, group: 'billing', all: true } });
    const { body } = await host.request('GET', '/api/v1/dead-letters/audit', { token: 'viewer' });
    expect(body.items.map((item: { actor: string; action: string }) => `${item.actor}:${item.action}`)).toEqual(['root:purge', 'oncall:replay']);
  });

  it('rate limits each token by its name and requests without a valid token by client address, over every endpoint', async () => {
    const host = await startTestHost({ rateLimitPerMinute: 3 });
    const statuses: number[] = [];
    const paths = ['/api/v1/topics', '/api/v1/groups'];
    for (let i = 0; i < 8; i++) statuses.push((await host.request('GET', paths[i % 2], { token: i % 2 === 0 ? 'viewer' : { raw: 'guessing-a-token-0123456789' } })).status);
    // The viewer's budget and the guesser's (by address) are separate: 3 each, wherever they go.
    expect(statuses).toEqual([200, 401, 200, 401, 200, 401, 429, 429]);
    // Another token from the same address has its own budget; no token shares the address's.
    expect((await host.request('GET', '/api/v1/topics', { token: 'operator' })).status).toBe(200);
    expect((await host.request('GET', '/api/v1/topics', { token: null })).status).toBe(429);
    const limited = await host.request('GET', '/api/v1/topics', { token: 'viewer' });
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_REQUESTS' });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Probes are never throttled.
    expect((await host.request('GET', '/health', { token: null })).status).toBe(200);
  });

  it('takes the client address from X-Forwarded-For only through trusted proxies (BROOK_TRUST_PROXY), by hop count or CIDR', async () => {
    const guess = (host: TestHost, forwardedFor: string) =>
      host.request('GET', '/api/v1/topics', { token: null, headers: { 'x-forwarded-for': forwardedFor } }).then((reply) => reply.status);
    for (const trustProxy of [1, '127.0.0.0/8,::1/128', 'loopback']) {
      const host = await startTestHost({ rateLimitPerMinute: 2, trustProxy });
      expect([await guess(host, '203.0.113.1'), await guess(host, '203.0.113.1'), await guess(host, '203.0.113.1')], String(trustProxy)).toEqual([401, 401, 429]);
      // Another client behind the same proxy has its own budget.
      expect(await guess(host, '203.0.113.2')).toBe(401);
    }
    // Without trust, the header is the client's word and the TCP peer is the address.
    const direct = await startTestHost({ rateLimitPerMinute: 2 });
    expect([await guess(direct, '203.0.113.1'), await guess(direct, '203.0.113.2'), await guess(direct, '203.0.113.3')]).toEqual([401, 401, 429]);
    // Trusting a proxy that is not the peer changes nothing either.
    const elsewhere = await startTestHost({ rateLimitPerMinute: 2, trustProxy: '10.0.0.0/8' });
    expect([await guess(elsewhere, '203.0.113.1'), await guess(elsewhere, '203.0.113.2'), await guess(elsewhere, '203.0.113.3')]).toEqual([401, 401, 429]);
  });

  it('checks BROOK_TRUST_PROXY up front', () => {
    expect(resolveHostOptions({ ...hostOptionsFromEnv({ BROOK_TRUST_PROXY: '2' }) }).trustProxy).toBe(2);
    expect(resolveHostOptions({ ...hostOptionsFromEnv({ BROOK_TRUST_PROXY: ' 10.0.0.0/8, 192.168.1.7 ,::1' }) }).trustProxy).toEqual(['10.0.0.0/8', '192.168.1.7', '::1']);
    expect(resolveHostOptions({}).trustProxy).toBe(false);
    expect(resolveHostOptions({ trustProxy: 0 }).trustProxy).toBe(false);
    for (const wrong of ['10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/1', '', '1.2.3']) {
      expect(() => resolveHostOptions({ trustProxy: wrong }), wrong).toThrow(/trustProxy/);
    }
    expect(() => resolveHostOptions({ trustProxy: 101 })).toThrow(/trustProxy must be an integer from 0 to 100/);
  });

  it('generates one admin token when none is configured', async () => {
    const options = resolveHostOptions({});
    expect(options.generatedToken).toMatchObject({ name: 'generated-admin', role: 'admin' });
    expect(options.generatedToken!.token.length).toBeGreaterThanOrEqual(40);
    expect(options.adminTokens).toEqual([options.generatedToken]);
    expect(resolveHostOptions({}).generatedToken!.token).not.toBe(options.generatedToken!.token);

    const host = await startTestHost({ adminTokens: [] });
    expect((await host.request('GET', '/api/v1/topics')).status).toBe(401);
  });

  it('reads tokens from BROOK_ADMIN_TOKENS and refuses bad entries without echoing secrets', () => {
    const options = resolveHostOptions(hostOptionsFromEnv({ BROOK_ADMIN_TOKENS: ' ops:admin:aaaaaaaaaaaaaaaa:with:colons , grafana:viewer:bbbbbbbbbbbbbbbb ' }));
    expect(options.generatedToken).toBeNull();
    expect(options.adminTokens).toEqual([
      { name: 'ops', role: 'admin', token: 'aaaaaaaaaaaaaaaa:with:colons' },
      { name: 'grafana', role: 'viewer', token: 'bbbbbbbbbbbbbbbb' },
    ]);
    expect(() => parseAdminTokens('ops:root:aaaaaaaaaaaaaaaa')).toThrow(/entry 1 \('ops'\): the role must be one of viewer, operator, admin/);
    expect(() => parseAdminTokens('ops:admin:short')).toThrow(/at least 16 printable characters/);
    expect(() => parseAdminTokens('ops:admin:short')).not.toThrow(/short/);
    expect(() => parseAdminTokens('bad name:admin:aaaaaaaaaaaaaaaa')).toThrow(/entry 1: the name must be/);
    expect(() => parseAdminTokens('a:admin:aaaaaaaaaaaaaaaa,a:viewer:bbbbbbbbbbbbbbbb')).toThrow(/used twice/);
    expect(() => parseAdminTokens('a:admin:aaaaaaaaaaaaaaaa,b:viewer:aaaaaaaaaaaaaaaa')).toThrow(/share the same secret/);
    expect(() => hostOptionsFromEnv({ PORT: 'eighty' })).toThrow(/PORT must be a non-negative integer/);
    expect(() => hostOptionsFromEnv({ BROOK_METRICS_PUBLIC: 'yes' })).toThrow(/'true' or 'false'/);
  });

  it('finds a token among several by comparing with every one of them', () => {
    const verifier = new TokenVerifier(parseAdminTokens(`a:viewer:${TOKENS.viewer},b:admin:${TOKENS.admin}`));
    expect(verifier.verify(TOKENS.admin)).toEqual({ name: 'b', role: 'admin' });
    expect(verifier.verify(TOKENS.viewer)).toEqual({ name: 'a', role: 'viewer' });
    expect(verifier.verify(TOKENS.operator)).toBeUndefined();
    expect(verifier.verify('')).toBeUndefined();
  });
});
