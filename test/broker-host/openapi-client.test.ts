import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { topicWithDeadLetters } from './fixtures.js';
import { startTestHost, TOKENS } from './host.js';
import { schemaViolations } from './openapi-schema.js';

const ROOT = new URL('../../', import.meta.url).pathname;
// Inside node_modules, so the generated client resolves openapi-fetch like an application would.
const SCRATCH = join(ROOT, 'node_modules', '.cache', 'brook-openapi-client');

/** A client written against the generated types: wrong paths, parameters or fields would not compile. */
const CLIENT = `
import createClient from 'openapi-fetch';
import type { components, paths } from './schema.js';

type GroupListing = components['schemas']['GroupListing'];

export async function exercise(baseUrl: string, token: string, topic: string) {
  const client = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + token } });
  const topics = await client.GET('/api/v1/topics');
  const names: string[] = (topics.data?.topics ?? []).map((entry) => entry.topic);
  const groups = await client.GET('/api/v1/groups');
  const listings: GroupListing[] = groups.data?.groups ?? [];
  const lagSeconds: Array<number | null | undefined> = listings.map((listing) => listing.lagSeconds);
  const described = await client.GET('/api/v1/groups/{group}/topics/{topic}', { params: { path: { group: 'billing', topic } } });
  const partitions = (described.data?.partitions ?? []).map((p) => ({ partition: p.partition, lag: p.lag, lagSeconds: p.lagSeconds }));
  const page = await client.GET('/api/v1/topics/{topic}/partitions/{partition}/messages', { params: { path: { topic, partition: 0 }, query: { timestamp: 0, limit: 10 } } });
  const offsets: number[] = (page.data?.messages ?? []).map((message) => message.offset);
  const history = await client.GET('/api/v1/groups/{group}/topics/{topic}/lag-history', { params: { path: { group: 'billing', topic }, query: { limit: 5 } } });
  const missing = await client.GET('/api/v1/topics/{topic}', { params: { path: { topic: 'no-such-topic' } } });
  const code: string | undefined = missing.error?.code;
  const conflict = await client.DELETE('/api/v1/groups/{group}', { params: { path: { group: 'billing' }, query: { force: false } } });
  const controller = await client.GET('/api/v1/controller');
  const leader: boolean | undefined = controller.data?.isLeader;
  // @ts-expect-error: the generated types know this path does not exist.
  void client.GET('/api/v1/no-such-path');
  return {
    names,
    groups: listings.map((listing) => listing.group),
    lagSeconds,
    partitions,
    offsets,
    samples: history.data?.samples.length ?? -1,
    missing: { status: missing.response.status, code },
    conflict: { status: conflict.response.status, code: conflict.error?.code },
    leader,
  };
}
`;

afterEach(async () => {
  await rm(SCRATCH, { recursive: true, force: true });
});

describe('the OpenAPI document as a contract', () => {
  it('documents every operation with its response and error schemas, and opaque bearer tokens', async () => {
    const host = await startTestHost();
    const document = (await host.request('GET', '/docs-json', { token: null })).body;
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque' });
    expect(document.components.securitySchemes.bearer.description).toMatch(/opaque token .* not a JWT/i);
    const undocumented: string[] = [];
    for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>)) {
      if (path === '/health') continue;
      for (const [method, operation] of Object.entries(operations)) {
        const route = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(operation.responses);
        const success = statuses.filter((status) => status.startsWith('2'));
        if (success.length === 0 || success.some((status) => status !== '204' && operation.responses[status].content === undefined)) undocumented.push(`${route}: success body`);
        for (const status of ['400', '401', '403', '429', '500', '503']) {
          if (operation.responses[status]?.content?.['application/json']?.schema === undefined) undocumented.push(`${route}: ${status}`);
        }
      }
    }
    expect(undocumented).toEqual([]);
    // The checker the role matrix validates every answer with does catch a body that breaks its schema.
    expect(schemaViolations(document, { $ref: '#/components/schemas/TopicList' }, { topics: [{ topic: 1 }] })).toEqual(['$.topics[0].partitions: missing', '$.topics[0].topic: 1 is not a string']);
  });

  it('generates a typed client from /docs-json that compiles with tsc and calls the host', async () => {
    const host = await startTestHost();
    const { topic, billing } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 1, passing: 2 });
    const document = (await host.request('GET', '/docs-json', { token: null })).body;

    const dir = join(SCRATCH, randomBytes(4).toString('hex'));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'schema.d.ts'), astToString(await openapiTS(document)));
    await writeFile(join(dir, 'client.ts'), CLIENT);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const tsconfig = {
      compilerOptions: { strict: true, target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out', skipLibCheck: true, types: [], lib: ['ES2022', 'DOM'] },
      files: ['client.ts', 'schema.d.ts'],
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const compiled = await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json')], { cwd: dir }).catch(
      (error: { stdout: string; stderr: string }) => ({ stdout: error.stdout, stderr: error.stderr, failed: true }),
    );
    expect(compiled, `${compiled.stdout}${compiled.stderr}`).not.toHaveProperty('failed');

    const { exercise } = (await import(join(dir, 'out', 'client.js'))) as { exercise: (url: string, token: string, topic: string) => Promise<Record<string, unknown>> };
    const result = await exercise(host.url, TOKENS.admin, topic);
    expect(result).toMatchObject({
      names: [topic],
      groups: ['billing'],
      lagSeconds: [0],
      partitions: [
        { partition: 0, lag: 0, lagSeconds: 0 },
        { partition: 1, lag: 0, lagSeconds: 0 },
      ],
      samples: expect.any(Number),
      missing: { status: 404, code: 'UNKNOWN_TOPIC' },
      conflict: { status: 409, code: 'GROUP_ACTIVE' },
      leader: expect.any(Boolean),
    });
    expect((result.offsets as number[]).length).toBeGreaterThan(0);
    expect(result.samples).toBeGreaterThanOrEqual(0);
    await billing.consumer.stop();
  }, 90_000);
});
