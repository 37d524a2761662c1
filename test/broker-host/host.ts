import { afterEach, inject } from 'vitest';
import type { INestApplication } from '@nestjs/common';
import type { Brook } from '@brook/broker';
import { createBrokerHost } from '../../apps/broker-host/src/host.js';
import type { HostOptions } from '../../apps/broker-host/src/config/host-options.js';
import { createBrook, uniquePrefix } from '../support/brook.js';

/** One token per role; tests send them as bearer tokens. */
export const TOKENS = {
  viewer: 'viewer-token-0123456789abcdef',
  operator: 'operator-token-0123456789abcdef',
  admin: 'admin-token-0123456789abcdef',
} as const;

export const ADMIN_TOKENS = `grafana:viewer:${TOKENS.viewer},oncall:operator:${TOKENS.operator},root:admin:${TOKENS.admin}`;

/** A response, with the body parsed when it is JSON. */
export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  /** A role's token, a literal token, or null for none. @defaultValue the admin token */
  token?: keyof typeof TOKENS | { raw: string } | null;
  body?: unknown;
  /** Sent as-is instead of JSON-encoding `body`. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** Aborts the request, e.g. `AbortSignal.timeout(ms)` to fail on a host that does not answer. */
  signal?: AbortSignal;
}

export interface TestHost {
  url: string;
  prefix: string;
  /** A Brook client on the same Redis and prefix, for setting up topics, groups and dead letters. */
  brook: Brook;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<Reply<T>>;
  close(): Promise<void>;
}

const apps: INestApplication[] = [];

/** A broker host on the shared test Redis (or `options.redis`) with a fresh prefix, listening on a free port; closed after the test. */
export async function startTestHost(options: HostOptions = {}): Promise<TestHost> {
  const prefix = options.prefix ?? uniquePrefix();
  // A host on a Cluster or Sentinel gets a client there too; one on a URL a client on the shared Redis.
  const brook = createBrook({ prefix, ...(options.redis !== undefined && { redis: options.redis }) });
  const { app } = await createBrokerHost({
    ...(options.redis === undefined && { redisUrl: inject('redisUrl') }),
    adminTokens: ADMIN_TOKENS,
    rateLimitPerMinute: 100_000,
    logLevel: 'fatal',
    metricsCacheMs: 0,
    ...options,
    prefix,
  });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    prefix,
    brook,
    request: (method, path, requestOptions) => send(url, method, path, requestOptions),
    close: () => app.close(),
  };
}

/** Sends one request to a host at `url`. */
export async function send<T = any>(url: string, method: string, path: string, { token = 'admin', body, rawBody, headers = {}, signal }: RequestOptions = {}): Promise<Reply<T>> {
  const secret = token === null ? undefined : typeof token === 'string' ? TOKENS[token] : token.raw;
  const response = await fetch(url + path, {
    method,
    headers: {
      ...(secret === undefined ? {} : { authorization: `Bearer ${secret}` }),
      ...(body !== undefined || rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal,
  });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('application/json') ?? false;
  return { status: response.status, headers: response.headers, body: isJson && text.length > 0 ? JSON.parse(text) : text };
}

afterEach(async () => {
  // Before the Brook clients' cleanup deletes the keys: a running host would write some again.
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

