import { Redis } from 'ioredis';
import { waitFor } from './brook.js';
import type { RedisServer } from './redis-server.js';

/** Runs `work` on a short-lived connection; the harness's servers come and go, so no client is kept. */
export async function withClient<T>(port: number, work: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    return await work(client);
  } finally {
    client.disconnect();
  }
}

/** Runs one command on the server at `port` and resolves with its reply. */
export function ask<T = unknown>(port: number, ...args: Array<string | number>): Promise<T> {
  return withClient(port, (client) => client.call(String(args[0]), ...args.slice(1)) as Promise<T>);
}

/** `host:port` of a server the harness started. */
export function addressOf(server: RedisServer): string {
  return `127.0.0.1:${server.port}`;
}

/** Waits until the primary lists `replicas` replicas in state `online`, the ones `WAIT` counts. */
export async function waitForReplicas(primary: RedisServer, replicas: number): Promise<void> {
  await waitFor(
    async () => {
      const info = await ask<string>(primary.port, 'INFO', 'replication');
      return [...info.matchAll(/^slave\d+:.*state=online/gm)].length === replicas;
    },
    { message: `primary ${primary.port} to count ${replicas} online replica(s)`, intervalMs: 20 },
  );
}

/** Deletes the keys matching `pattern` on one server. */
export async function deleteMatching(port: number, pattern: string): Promise<void> {
  await withClient(port, async (client) => {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      // One DEL per key: on a cluster node the keys of one call must share a slot.
      await Promise.all(keys.map((key) => client.del(key)));
      cursor = next;
    } while (cursor !== '0');
  });
}

/** A flat `[field, value, …]` reply (or a map) as an object. */
export function toObject(reply: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  else if (reply && typeof reply === 'object') Object.assign(out, reply);
  return out;
}
