import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Brook, RedisConnection } from '@brook/broker';
import { createBrook, uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { forkTs } from '../support/child-process.js';
import { addressOf, ask, toObject, waitForReplicas } from '../support/redis-admin.js';
import { freePort, RedisServer } from '../support/redis-server.js';
import { makeTlsFiles, tlsArgs, type TlsFiles } from '../support/tls.js';

let files: TlsFiles | undefined;
const servers: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  files?.remove();
  files = undefined;
});

async function start(options: { args?: string[]; config?: string } = {}): Promise<RedisServer> {
  const server = await RedisServer.start(options);
  servers.push(server);
  return server;
}

/** Produces three messages and waits until a consumer group handled them. */
async function produceAndConsume(brook: Brook): Promise<string[]> {
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions: 2 });
  await brook.producer({ acks: 'leader' }).send({ topic, messages: ['a', 'b', 'c'].map((value) => ({ key: value, value })) });
  const received: string[] = [];
  const consumer = brook.consumer({ group: uniqueName('billing') });
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void received.push(message.value as string) });
  await waitFor(() => received.length === 3, { message: 'the three messages over TLS', timeoutMs: 15_000 });
  await consumer.stop();
  return received.sort();
}

describe('TLS', () => {
  it('produces and consumes through a single redis-server over TLS, trusting the CA through the tls option', async () => {
    files = makeTlsFiles();
    const { tlsPort, args } = await tlsArgs(files);
    await start({ args });
    const redis: RedisConnection = { host: '127.0.0.1', port: tlsPort, tls: { ca: files.ca } };
    expect(await produceAndConsume(createBrook({ redis, prefix: uniquePrefix() }))).toEqual(['a', 'b', 'c']);
  });

  it('produces and consumes through a rediss:// URL when Node trusts the CA (NODE_EXTRA_CA_CERTS)', async () => {
    files = makeTlsFiles();
    const { tlsPort, args } = await tlsArgs(files);
    await start({ args });
    const { child, exited } = forkTs('test/support/tls-client.ts', {
      REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
      PREFIX: uniquePrefix(),
      TOPIC: uniqueName('orders'),
      NODE_EXTRA_CA_CERTS: files.caFile,
    });
    const reply = await new Promise<unknown>((resolve, reject) => {
      child.once('message', resolve);
      void exited.then(() => reject(new Error('the TLS client exited without a reply')));
    });
    expect(reply).toEqual({ sent: ['a', 'b', 'c'], received: ['a', 'b', 'c'] });
  });

  it('produces (acks all) and consumes through Sentinel with TLS to the sentinels and to the data nodes', async () => {
    files = makeTlsFiles();
    const primaryTls = await tlsArgs(files, { replication: true });
    const primary = await start({ args: primaryTls.args });
    const replicaTls = await tlsArgs(files, { replication: true });
    await start({ args: [...replicaTls.args, '--replicaof', '127.0.0.1', String(primaryTls.tlsPort)] });
    await waitForReplicas(primary, 1);
    const sentinelTls = await tlsArgs(files, { replication: true });
    const name = 'brook-tls';
    const sentinel = await start({
      args: ['--sentinel', ...sentinelTls.args],
      config: [`sentinel monitor ${name} 127.0.0.1 ${primaryTls.tlsPort} 1`, `sentinel down-after-milliseconds ${name} 5000`].join('\n'),
    });
    // The replica announces its TLS port: clients are only ever handed TLS addresses.
    await waitFor(
      async () =>
        (await ask<unknown[][]>(sentinel.port, 'SENTINEL', 'REPLICAS', name)).some((flat) => {
          const fields = toObject(flat);
          return Number(fields.port) === replicaTls.tlsPort && fields['master-link-status'] === 'ok';
        }),
      { message: 'the sentinel to see the replica at its TLS port', timeoutMs: 15_000, intervalMs: 50 },
    );
    const redis: RedisConnection = {
      sentinels: [{ host: '127.0.0.1', port: sentinelTls.tlsPort }],
      name,
      sentinelTLS: { ca: files.ca },
      enableTLSForSentinelMode: true,
      tls: { ca: files.ca },
    };
    const brook = createBrook({ redis, prefix: uniquePrefix() });
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await expect(brook.producer({ acks: 'all' }).send({ topic, messages: [{ value: 'durable' }] })).resolves.toHaveLength(1);
    expect(await produceAndConsume(brook)).toEqual(['a', 'b', 'c']);
  });

  it('produces and consumes through a Redis Cluster whose nodes speak TLS to clients and on the cluster bus', async () => {
    files = makeTlsFiles();
    const nodes = await Promise.all(
      [0, 1, 2].map(async () => {
        const tls = await tlsArgs(files!, { replication: true });
        const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(await freePort()), '--tls-cluster', 'yes', ...tls.args];
        return { server: await start({ args }), tlsPort: tls.tlsPort };
      }),
    );
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...nodes.map(({ server }) => addressOf(server)), '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor(async () => (await Promise.all(nodes.map(({ server }) => ask<string>(server.port, 'CLUSTER', 'INFO')))).every((info) => info.includes('cluster_state:ok')), {
      message: 'the cluster to be healthy',
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    // Over TLS the nodes report their TLS ports in the slot map, so every connection ioredis opens is TLS.
    const redis: RedisConnection = { cluster: [{ host: '127.0.0.1', port: nodes[0].tlsPort }], options: { redisOptions: { tls: { ca: files.ca } } } };
    expect(await produceAndConsume(createBrook({ redis, prefix: uniquePrefix() }))).toEqual(['a', 'b', 'c']);
  });
});
