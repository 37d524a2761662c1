import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Brook } from '@brook/broker';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
import { ClusterSetup } from '../support/cluster.js';
import { addressOf, waitForReplicas } from '../support/redis-admin.js';
import { RedisServer } from '../support/redis-server.js';
import { SentinelSetup } from '../support/sentinel.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** 10 KB per message: a few of them put a stopped replica past a 1,000-byte threshold. */
const bulky = (count: number, partition = 0) => range(count).map((i) => ({ value: 'x'.repeat(10_000) + i, partition }));

describe('topology of a single node', () => {
  it('reports the one primary as leader of every partition, with no replicas, serving every slot', async () => {
    const brook = createBrook();
    const topic = uniqueName('single');
    await brook.admin().createTopic({ topic, partitions: 3 });
    const port = Number(new URL(inject('redisUrl')).port);
    const { partitions } = await brook.admin().describeTopic(topic);
    for (const partition of partitions) {
      expect(partition).toMatchObject({ leader: `127.0.0.1:${port}`, replicas: [], inSyncReplicas: [], replicaStatus: [] });
    }
    const cluster = await brook.admin().describeCluster();
    expect(cluster.mode).toBe('standalone');
    expect(cluster.maxLagBytes).toBe(1_048_576);
    expect(cluster.nodes).toHaveLength(1);
    expect(cluster.nodes[0]).toMatchObject({ address: `127.0.0.1:${port}`, role: 'primary', primary: null, state: 'online', slots: [[0, 16_383]], lagBytes: null, inSync: null });
    expect(cluster.nodes[0].replicationOffset).toEqual(expect.any(Number));
    expect(cluster.nodes[0].leads).toContainEqual({ topic, partitions: [0, 1, 2] });
  });

  it('refuses a negative lag threshold, naming it', async () => {
    const brook = createBrook();
    const topic = uniqueName('threshold');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await expect(brook.admin().describeTopic(topic, { maxLagBytes: -1 })).rejects.toThrow(/maxLagBytes must be an integer from 0/);
    await expect(brook.admin().describeCluster({ maxLagBytes: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('topology of a primary with a replica', () => {
  let primary: RedisServer;
  let replica: RedisServer;

  beforeAll(async () => {
    primary = await RedisServer.start();
    replica = await RedisServer.start({ replicaOf: primary });
    await waitForReplicas(primary, 1);
  });
  afterAll(async () => {
    await Promise.all([replica?.stop(), primary?.stop()]);
  });

  function brookOnPrimary(): Brook {
    return createBrook({ redis: primary.url });
  }

  it('reports the replica in sync with its acknowledged offset and lag, and the primary leading every partition', async () => {
    const brook = brookOnPrimary();
    const topic = uniqueName('replicated');
    await brook.admin().createTopic({ topic, partitions: 2 });
    await brook.producer({ acks: 'all' }).send({ topic, messages: bulky(3) });
    const partition = await waitFor(async () => {
      const [first] = (await brook.admin().describeTopic(topic)).partitions;
      return first.replicaStatus[0]?.lagBytes === 0 && first;
    }, { message: 'the replica to acknowledge everything', timeoutMs: 15_000, intervalMs: 100 });
    expect(partition).toMatchObject({
      leader: addressOf(primary),
      replicas: [addressOf(replica)],
      inSyncReplicas: [addressOf(replica)],
      replicaStatus: [{ address: addressOf(replica), state: 'online', offset: expect.any(Number), lagBytes: 0, inSync: true }],
    });

    // The primary pings its replica now and then, which moves its offset until the next acknowledgement.
    const cluster = await waitFor(async () => {
      const described = await brook.admin().describeCluster();
      return described.nodes[1]?.lagBytes === 0 && described;
    }, { message: 'the replica to acknowledge everything', timeoutMs: 15_000, intervalMs: 100 });
    expect(cluster.nodes.map(({ address, role, primary: of }) => ({ address, role, of }))).toEqual([
      { address: addressOf(primary), role: 'primary', of: null },
      { address: addressOf(replica), role: 'replica', of: addressOf(primary) },
    ]);
    expect(cluster.nodes[1]).toMatchObject({ state: 'online', lagBytes: 0, inSync: true, slots: [], leads: [] });
    expect(cluster.nodes[1].replicationOffset).toBe(cluster.nodes[0].replicationOffset);
  });

  it('counts a stopped replica out of sync once it falls more than maxLagBytes behind, and back in once it caught up', async () => {
    const brook = brookOnPrimary();
    const topic = uniqueName('lagging');
    await brook.admin().createTopic({ topic, partitions: 1 });
    replica.signal('SIGSTOP');
    try {
      await brook.producer({ acks: 'leader' }).send({ topic, messages: bulky(5) });
      const [behind] = (await brook.admin().describeTopic(topic, { maxLagBytes: 1_000 })).partitions;
      // The primary still lists it as online: only the lag tells that it stopped applying.
      expect(behind.replicaStatus).toEqual([{ address: addressOf(replica), state: 'online', offset: expect.any(Number), lagBytes: expect.any(Number), inSync: false }]);
      expect(behind.replicaStatus[0].lagBytes).toBeGreaterThan(50_000);
      expect(behind.inSyncReplicas).toEqual([]);
      expect(behind.replicas).toEqual([addressOf(replica)]);
      // The default threshold (1 MiB) still counts 50 KB behind as in sync.
      expect((await brook.admin().describeTopic(topic)).partitions[0].inSyncReplicas).toEqual([addressOf(replica)]);
    } finally {
      replica.signal('SIGCONT');
    }
    await waitFor(async () => (await brook.admin().describeTopic(topic, { maxLagBytes: 1_000 })).partitions[0].inSyncReplicas.length === 1, {
      message: 'the replica to catch up',
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  });
});

describe('topology under Sentinel', () => {
  let sentinel: SentinelSetup;

  beforeAll(async () => {
    sentinel = await SentinelSetup.start();
  });
  afterAll(async () => {
    await sentinel?.stop();
  });

  it('describes the primary the sentinels name and its replica', async () => {
    const brook = createBrook({ redis: sentinel.connection });
    const cluster = await brook.admin().describeCluster();
    expect(cluster.mode).toBe('sentinel');
    expect(cluster.nodes.map(({ address, role }) => ({ address, role }))).toEqual([
      { address: addressOf(sentinel.primary), role: 'primary' },
      { address: addressOf(sentinel.replica), role: 'replica' },
    ]);
    await sentinel.deleteKeys(brook.options.prefix);
  });
});

describe('topology of a Redis Cluster', () => {
  let cluster: ClusterSetup;

  beforeAll(async () => {
    cluster = await ClusterSetup.start({ replicas: true });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('lists every node with role, slots, offsets and lag, and the partitions each primary leads, agreeing with describeTopic', async () => {
    const brook = createBrook({ redis: cluster.connection });
    const topic = uniqueName('sharded');
    await brook.admin().createTopic({ topic, partitions: 12 });
    await brook.producer({ acks: 'all' }).send({ topic, messages: range(12).flatMap((partition) => bulky(1, partition)) });

    const described = await brook.admin().describeCluster();
    expect(described.mode).toBe('cluster');
    const primaries = described.nodes.filter((node) => node.role === 'primary');
    const replicas = described.nodes.filter((node) => node.role === 'replica');
    expect(primaries.map((node) => node.address).sort()).toEqual(cluster.primaries.map(addressOf).sort());
    expect(replicas.map((node) => node.address).sort()).toEqual(cluster.replicas.map(addressOf).sort());
    // Every slot is served exactly once.
    const slots = primaries.flatMap((node) => node.slots).sort((a, b) => a[0] - b[0]);
    expect(slots.reduce((sum, [from, to]) => sum + to - from + 1, 0)).toBe(16_384);
    for (const node of described.nodes) {
      expect(node.id).toMatch(/^[0-9a-f]{40}$/);
      expect(node.replicationOffset).toEqual(expect.any(Number));
    }
    for (const node of replicas) {
      expect(await cluster.replicasOf(node.primary!)).toEqual([node.address]);
      expect(node).toMatchObject({ state: 'online', inSync: true, leads: [], slots: [] });
    }

    const { partitions } = await brook.admin().describeTopic(topic);
    const led = primaries.flatMap((node) => node.leads.filter((l) => l.topic === topic).flatMap((l) => l.partitions.map((partition) => ({ partition, leader: node.address }))));
    expect(led.sort((a, b) => a.partition - b.partition)).toEqual(partitions.map(({ partition, leader }) => ({ partition, leader })));
    for (const partition of partitions) {
      expect(partition.leader).toBe(await cluster.primaryFor(`${brook.options.prefix}:{${topic}:${partition.partition}}:log`));
      expect(partition.replicas).toEqual(await cluster.replicasOf(partition.leader));
      expect(partition.inSyncReplicas).toEqual(partition.replicas);
      expect(partition.replicaStatus[0]).toMatchObject({ state: 'online', inSync: true, lagBytes: expect.any(Number) });
    }
    await cluster.deleteKeys(brook.options.prefix);
  });

  it('counts only the frozen replica out of sync, on the partitions of its shard', async () => {
    const brook = createBrook({ redis: cluster.connection });
    const topic = uniqueName('frozen');
    await brook.admin().createTopic({ topic, partitions: 12 });
    const before = (await brook.admin().describeTopic(topic)).partitions;
    const frozenShard = before[0].leader;
    const frozen = cluster.servers.find((server) => addressOf(server) === before[0].replicas[0])!;
    frozen.signal('SIGSTOP');
    try {
      await brook.producer({ acks: 'leader' }).send({ topic, messages: range(12).flatMap((partition) => bulky(2, partition)) });
      const { partitions } = await brook.admin().describeTopic(topic, { maxLagBytes: 1_000 });
      for (const partition of partitions) {
        if (partition.leader === frozenShard) {
          expect(partition.inSyncReplicas, `partition ${partition.partition}`).toEqual([]);
          expect(partition.replicaStatus[0].lagBytes).toBeGreaterThan(1_000);
        }
      }
      const node = (await brook.admin().describeCluster({ maxLagBytes: 1_000 })).nodes.find((n) => n.address === addressOf(frozen))!;
      expect(node).toMatchObject({ role: 'replica', primary: frozenShard, inSync: false });
    } finally {
      frozen.signal('SIGCONT');
    }
    await waitFor(async () => (await brook.admin().describeTopic(topic, { maxLagBytes: 1_000 })).partitions.every((p) => p.inSyncReplicas.length === 1), {
      message: 'every replica to be in sync again',
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    await cluster.deleteKeys(brook.options.prefix);
  });
});
