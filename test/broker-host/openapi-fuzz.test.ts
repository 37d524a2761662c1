import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../support/brook.js';
import { topicWithDeadLetters } from './fixtures.js';
import { FUZZ_SEED } from './fuzz-seed.js';
import { send, startTestHost } from './host.js';
import { drawCase, operationsOf, type FuzzCase, type Known } from './openapi-fuzz.js';
import { BROOK_HTTP_ERRORS } from '@brook/nest-adapter';

/** Requests per operation; with ~22 operations the pass takes under a minute on an idle machine, two on a loaded one. */
const CASES_PER_OPERATION = 80;
/** Longer than any request may take: a host that has not answered by then hangs. */
const HANG_MS = 5_000;

/** The statuses the README's error table documents for the host. */
function documentedStatuses(): Set<number> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = readme.slice(readme.indexOf('| Status | When |'));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
  return new Set(rows.map((row) => Number(/^\| (\d{3}) /.exec(row)?.[1])));
}

describe('broker host fuzz pass over the OpenAPI document', () => {
  it("documents in the README's error table every status the host answers with, and no other", () => {
    // Brook's error codes, and what the host refuses before or besides them: tokens, roles, routes, the rate limit and HTTP itself.
    const answered = new Set([...Object.values(BROOK_HTTP_ERRORS).map((mapping) => mapping.status), 400, 401, 403, 404, 408, 413, 415, 429, 431]);
    expect([...documentedStatuses()].sort()).toEqual([...answered].sort());
  });

  it('answers every seeded request to every documented operation without a 5xx or a hang, and refuses every one that breaks a documented rule', { timeout: 180_000 }, async () => {
    const host = await startTestHost();
    const { topic, deadLetters, billing } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 3, passing: 2 });
    await billing.consumer.stop();
    const missing = uniqueName('missing');
    const known: Known = {
      topic: [topic, topic, missing],
      group: ['billing', 'billing', 'nobody'],
      id: [...deadLetters.map((event) => event.deadLetterId), '0-1-0'],
      'ids[]': [...deadLetters.map((event) => event.deadLetterId), '0-1-0'],
      partition: [0, 1],
      cursor: ['0-0', '0-1', '0:0-0', '1:0-1', '9999999999999-0'],
      // Produced messages' timestamps must be near the Redis clock; reset-offsets takes any.
      timestamp: [Date.now(), 0],
    };
    const document = (await host.request('GET', '/docs-json', { token: null })).body;
    const operations = operationsOf(document);
    expect(operations.length).toBeGreaterThanOrEqual(20);

    const seen = new Map<number, string>();
    let sent = 0;
    for (const [index, operation] of operations.entries()) {
      await fc.assert(
        fc.asyncProperty(fc.gen(), async (g) => {
          const request: FuzzCase = drawCase(g, operation, known);
          const what = `${operation.name}: ${request.method} ${request.path.slice(0, 200)} with ${request.mutation}`;
          const reply = await send(host.url, request.method, request.path, { ...request.options, signal: AbortSignal.timeout(HANG_MS) }).catch((error: unknown) => {
            throw new Error(`${what}: no answer within ${HANG_MS} ms (${String(error)})`);
          });
          sent++;
          seen.set(reply.status, seen.get(reply.status) ?? what);
          expect(reply.status, `${what} → ${JSON.stringify(reply.body).slice(0, 300)}`).toBeLessThan(500);
          if (request.mustRefuse) {
            expect(reply.status, `${what} was accepted: ${JSON.stringify(reply.body).slice(0, 300)}`).toBeGreaterThanOrEqual(400);
            if (request.status !== undefined) expect(reply.status, `${what} → ${JSON.stringify(reply.body).slice(0, 300)}`).toBe(request.status);
          }
          if (reply.status >= 400) {
            expect(reply.body, what).toMatchObject({ statusCode: reply.status, error: expect.any(String), code: expect.any(String), message: expect.any(String) });
          }
        }),
        // One run per case against a live host: no shrinking, which would replay requests on changed state.
        { seed: FUZZ_SEED + index, numRuns: CASES_PER_OPERATION, endOnFailure: true },
      );
    }
    expect(sent).toBe(operations.length * CASES_PER_OPERATION);
    const documented = documentedStatuses();
    for (const [status, example] of seen) {
      if (status >= 400) expect(documented.has(status), `status ${status} (first seen for ${example}) is not in the README's error table`).toBe(true);
    }
    // The host is still whole.
    expect((await host.request('GET', '/health', { token: null })).status).toBe(200);
  });
});
