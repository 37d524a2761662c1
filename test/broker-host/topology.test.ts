import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { ClusterSetup } from '../support/cluster.js';
import { addressOf } from '../support/redis-admin.js';
import { SentinelSetup } from '../support/sentinel.js';
import { hostOptionsFromEnv } from '../../apps/broker-host/src/config/host-options.env.js';
import { resolveHostOptions } from '../../apps/broker-host/src/config/host-options.js';
import { startHostProcess } from './host-process.js';
import { send, startTestHost, type TestHost } from './host.js';
import { responseProblems } from './response-schema.js';

/** The brook_ samples of a scrape, `name{labels}` → value. */
async function scrape(host: Pick<TestHost, 'request'>): Promise<Map<string, number>> {
  const { body } = await host.request<string>('GET', '/metrics', { token: 'viewer' });
  const samples = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (!line.startsWith('brook_partition_')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe('broker host topology on a single node', () => {
  it('describes partitions and the cluster as the OpenAPI document says, and exports leader and in-sync metrics', async () => {
    const host = await startTestHost();
    const topic = uniqueName('single');
    await host.brook.admin().createTopic({ topic, partitions: 2 });
    const port = new URL(inject('redisUrl')).port;
    const docs = (await host.request('GET', '/docs-json', { token: null })).body;

    const described = await host.request('GET', `/api/v1/topics/${topic}`, { token: 'viewer' });
    expect(described.status).toBe(200);
    expect(responseProblems(docs, 'GET', '/api/v1/topics/{topic}', described.body)).toEqual([]);
    expect(described.body.partitions[1]).toEqual({ partition: 1, lowOffset: 0, highOffset: 0, leader: `127.0.0.1:${port}`, replicas: [], inSyncReplicas: [], replicaStatus: [] });

    const cluster = await host.request('GET', '/api/v1/cluster', { token: 'viewer' });
    expect(cluster.status).toBe(200);
    expect(responseProblems(docs, 'GET', '/api/v1/cluster', cluster.body)).toEqual([]);
    expect(cluster.body).toMatchObject({ mode: 'standalone', maxLagBytes: 1_048_576, nodes: [{ address: `127.0.0.1:${port}`, role: 'primary', slots: [[0, 16_383]] }] });
    expect(cluster.body.nodes[0].leads).toContainEqual({ topic, partitions: [0, 1] });

    const samples = await scrape(host);
    expect(samples.get(`brook_partition_leader_info{topic="${topic}",partition="0",leader="127.0.0.1:${port}"}`)).toBe(1);
    expect(samples.get(`brook_partition_replicas_in_sync{topic="${topic}",partition="1"}`)).toBe(0);
    expect(samples.get(`brook_partition_replicas{topic="${topic}",partition="1"}`)).toBe(0);
  });

  it('judges replicas by BROOK_MAX_REPLICA_LAG_BYTES', async () => {
    const host = await startTestHost({ maxReplicaLagBytes: 4_096 });
    expect((await host.request('GET', '/api/v1/cluster', { token: 'viewer' })).body.maxLagBytes).toBe(4_096);
  });
});

describe('broker host Redis settings from the environment', () => {
  it('reads Cluster seed nodes, or sentinels with the master name, into the connection a Brook client takes', () => {
    expect(hostOptionsFromEnv({ REDIS_CLUSTER_NODES: '10.0.0.1:6379, redis-b:6380,[::1]:7000' }).redis).toEqual({
      cluster: [{ host: '10.0.0.1', port: 6379 }, { host: 'redis-b', port: 6380 }, { host: '::1', port: 7000 }],
    });
    expect(hostOptionsFromEnv({ REDIS_CLUSTER_NODES: '10.0.0.1:6379', REDIS_USERNAME: 'brook', REDIS_PASSWORD: 's3cret' }).redis).toEqual({
      cluster: [{ host: '10.0.0.1', port: 6379 }],
      options: { redisOptions: { username: 'brook', password: 's3cret' } },
    });
    expect(hostOptionsFromEnv({ REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_SENTINEL_MASTER: 'orders', REDIS_SENTINEL_PASSWORD: 'watch', REDIS_PASSWORD: 'p' }).redis).toEqual({
      sentinels: [{ host: '10.0.0.1', port: 26_379 }, { host: '10.0.0.2', port: 26_379 }],
      name: 'orders',
      sentinelPassword: 'watch',
      password: 'p',
    });
    expect(hostOptionsFromEnv({ REDIS_URL: 'redis://r:6379' }).redis).toBe('redis://r:6379');
    expect(resolveHostOptions(hostOptionsFromEnv({})).redis).toBe('redis://127.0.0.1:6379');
    expect(hostOptionsFromEnv({ BROOK_MAX_REPLICA_LAG_BYTES: '65536' }).maxReplicaLagBytes).toBe(65_536);
  });

  it('refuses conflicting or incomplete settings, naming the variables and the fix', () => {
    expect(() => hostOptionsFromEnv({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:1' })).toThrow(/only one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS; got REDIS_URL and REDIS_CLUSTER_NODES/);
    expect(() => hostOptionsFromEnv({ REDIS_SENTINELS: 'a:26379' })).toThrow(/REDIS_SENTINELS needs REDIS_SENTINEL_MASTER/);
    expect(() => hostOptionsFromEnv({ REDIS_SENTINEL_MASTER: 'orders' })).toThrow(/REDIS_SENTINEL_MASTER needs REDIS_SENTINELS/);
    expect(() => hostOptionsFromEnv({ REDIS_CLUSTER_NODES: '10.0.0.1' })).toThrow(/REDIS_CLUSTER_NODES must list host:port entries .* got "10.0.0.1"/);
    expect(() => hostOptionsFromEnv({ REDIS_CLUSTER_NODES: 'a:70000' })).toThrow(/got "a:70000"/);
    expect(() => hostOptionsFromEnv({ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'p' })).toThrow(/put them in REDIS_URL/);
    expect(() => hostOptionsFromEnv({ BROOK_MAX_REPLICA_LAG_BYTES: '-1' })).toThrow(/BROOK_MAX_REPLICA_LAG_BYTES must be a non-negative integer/);
    expect(() => resolveHostOptions({ redisUrl: 'redis://a:1', redis: 'redis://b:1' })).toThrow(/Give redisUrl or redis, not both/);
  });
});

describe('broker host on a Redis Cluster', () => {
  let cluster: ClusterSetup;

  beforeAll(async () => {
    cluster = await ClusterSetup.start({ replicas: true });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('serves topics, messages, the cluster view, metrics and health from a Cluster', async () => {
    const host = await startTestHost({ redis: cluster.connection });
    const topic = uniqueName('sharded');
    expect((await host.request('POST', '/api/v1/topics', { body: { topic, partitions: 12 } })).status).toBe(201);
    const produced = await host.request('POST', `/api/v1/topics/${topic}/messages`, { body: { messages: Array.from({ length: 24 }, (_, i) => ({ key: `k${i}`, value: i })) } });
    expect(produced.status).toBe(201);

    const described = (await host.request('GET', `/api/v1/topics/${topic}`, { token: 'viewer' })).body;
    expect(described.partitions.reduce((sum: number, p: { highOffset: number }) => sum + p.highOffset, 0)).toBe(24);
    for (const partition of described.partitions) {
      expect(partition.leader).toBe(await cluster.primaryFor(`${host.prefix}:{${topic}:${partition.partition}}:log`));
      expect(partition.replicas).toEqual(await cluster.replicasOf(partition.leader));
      expect(partition.inSyncReplicas).toEqual(partition.replicas);
    }

    const view = (await host.request('GET', '/api/v1/cluster', { token: 'viewer' })).body;
    expect(view.mode).toBe('cluster');
    expect(view.nodes.filter((n: { role: string }) => n.role === 'primary').map((n: { address: string }) => n.address).sort()).toEqual(cluster.primaries.map(addressOf).sort());
    expect(view.nodes.filter((n: { role: string }) => n.role === 'replica')).toHaveLength(3);
    const led = view.nodes.flatMap((n: { address: string; leads: Array<{ topic: string; partitions: number[] }> }) =>
      n.leads.filter((l) => l.topic === topic).flatMap((l) => l.partitions.map((partition) => `${partition}@${n.address}`)),
    );
    expect(led.sort()).toEqual(described.partitions.map((p: { partition: number; leader: string }) => `${p.partition}@${p.leader}`).sort());

    const samples = await scrape(host);
    for (const partition of described.partitions) {
      expect(samples.get(`brook_partition_leader_info{topic="${topic}",partition="${partition.partition}",leader="${partition.leader}"}`)).toBe(1);
      expect(samples.get(`brook_partition_replicas_in_sync{topic="${topic}",partition="${partition.partition}"}`)).toBe(1);
    }
    const health = await host.request('GET', '/health', { token: null });
    expect(health.body).toMatchObject({ status: 'ok', info: { topology: { status: 'up', partitions: 12, primaries: 3, minReplicas: 1 } } });
    await cluster.deleteKeys(host.prefix);
  });

  it('starts from REDIS_CLUSTER_NODES as operators run it', async () => {
    const prefix = uniquePrefix();
    const seeds = cluster.primaries.slice(0, 2).map(addressOf).join(',');
    const processHost = await startHostProcess({ REDIS_CLUSTER_NODES: seeds, BROOK_PREFIX: prefix });
    try {
      expect(processHost.output.join('')).toContain(`for Redis Cluster via ${seeds}`);
      const view = await send(processHost.url, 'GET', '/api/v1/cluster', { token: 'viewer' });
      expect(view).toMatchObject({ status: 200, body: { mode: 'cluster' } });
      expect(view.body.nodes).toHaveLength(6);
    } finally {
      processHost.kill('SIGTERM');
      await processHost.exited;
    }
  });
});

describe('broker host on Sentinel', () => {
  let sentinel: SentinelSetup;

  beforeAll(async () => {
    sentinel = await SentinelSetup.start();
  });
  afterAll(async () => {
    await sentinel?.stop();
  });

  it('starts from REDIS_SENTINELS and REDIS_SENTINEL_MASTER and describes the primary the sentinels name', async () => {
    const sentinels = sentinel.sentinels.map(addressOf).join(',');
    const processHost = await startHostProcess({ REDIS_SENTINELS: sentinels, REDIS_SENTINEL_MASTER: sentinel.name, BROOK_PREFIX: uniquePrefix() });
    try {
      expect(processHost.output.join('')).toContain(`for Redis Sentinel master '${sentinel.name}' via ${sentinels}`);
      const view = await waitFor(async () => {
        const reply = await send(processHost.url, 'GET', '/api/v1/cluster', { token: 'viewer' });
        return reply.status === 200 && reply.body.nodes.length === 2 && reply;
      }, { message: 'the host to describe primary and replica' });
      expect(view.body.mode).toBe('sentinel');
      expect(view.body.nodes.map((n: { address: string; role: string }) => `${n.role}:${n.address}`)).toEqual([
        `primary:${addressOf(sentinel.primary)}`,
        `replica:${addressOf(sentinel.replica)}`,
      ]);
    } finally {
      processHost.kill('SIGTERM');
      await processHost.exited;
    }
  });
});
