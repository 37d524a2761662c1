import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotEnoughReplicasError, type Brook, type BrookOptions } from '@brook/broker';
import { createBrook, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';
import { ClusterSetup } from '../support/cluster.js';
import { addressOf, ask } from '../support/redis-admin.js';
import { SentinelSetup } from '../support/sentinel.js';

/** Offsets per partition, in the order the producer reported them. */
function offsetsByPartition(metadata: Array<{ partition: number; offset: number }>): Map<number, number[]> {
  const byPartition = new Map<number, number[]>();
  for (const { partition, offset } of metadata) byPartition.set(partition, [...(byPartition.get(partition) ?? []), offset]);
  return byPartition;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('Redis Sentinel', () => {
  let sentinel: SentinelSetup;
  const prefixes: string[] = [];

  beforeAll(async () => {
    sentinel = await SentinelSetup.start();
  });
  afterEach(async () => {
    await Promise.all(prefixes.splice(0).map((prefix) => sentinel.deleteKeys(prefix)));
  });
  afterAll(async () => {
    await sentinel?.stop();
  });

  function brookOnSentinel(options: Partial<BrookOptions> = {}): Brook {
    const brook = createBrook({ redis: sentinel.connection, ...options });
    prefixes.push(brook.options.prefix);
    return brook;
  }

  it('creates, produces and describes through the primary the sentinels name, reporting its replica', async () => {
    const brook = brookOnSentinel();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 3 });
    const metadata = await brook.producer().send({ topic, messages: range(30).map((i) => ({ key: `customer-${i}`, value: i })) });
    for (const offsets of offsetsByPartition(metadata).values()) expect(offsets).toEqual(range(offsets.length));

    const description = await brook.admin().describeTopic(topic);
    expect(description.partitions.map(({ leader, replicas }) => ({ leader, replicas }))).toEqual(
      range(3).map(() => ({ leader: addressOf(sentinel.primary), replicas: [addressOf(sentinel.replica)] })),
    );
    const counts = offsetsByPartition(metadata);
    for (const partition of description.partitions) {
      expect(partition.highOffset).toBe(counts.get(partition.partition)?.length ?? 0);
      expect(await ask(sentinel.primary.port, 'XLEN', `${brook.options.prefix}:{${topic}:${partition.partition}}:log`)).toBe(partition.highOffset);
    }
  });

  it('resolves acks: all once the replica confirmed, and the replica holds the messages', async () => {
    const brook = brookOnSentinel();
    const topic = uniqueName('durable');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const metadata = await brook.producer({ acks: 'all', minInSyncReplicas: 1 }).send({ topic, messages: range(5).map((i) => ({ value: i })) });
    expect(metadata.map((m) => m.offset)).toEqual(range(5));
    expect(await ask(sentinel.replica.port, 'XLEN', `${brook.options.prefix}:{${topic}:0}:log`)).toBe(5);
  });

  // Runs last in this block: afterwards the old primary is a stale one until Sentinel demotes it.
  it('follows a failover to the new primary, which holds every message acknowledged with acks: all', async () => {
    const brook = brookOnSentinel();
    const topic = uniqueName('failover');
    await brook.admin().createTopic({ topic, partitions: 2 });
    const durable = await brook.producer({ acks: 'all' }).send({ topic, messages: range(20).map((i) => ({ value: i, partition: i % 2 })) });
    expect(offsetsByPartition(durable)).toEqual(new Map([[0, range(10)], [1, range(10)]]));
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 'before', partition: 0 }] });

    const oldPrimary = addressOf(sentinel.primary);
    await sentinel.failover();
    const newPrimary = addressOf(sentinel.primary);
    expect(newPrimary).not.toBe(oldPrimary);

    // Well before Sentinel demotes the old primary (8 s and more), which would discard writes made there.
    await waitFor(async () => (await brook.admin().describeTopic(topic)).partitions.every((p) => p.leader === newPrimary), {
      timeoutMs: 3_000,
      message: `Brook to report ${newPrimary} as leader`,
    });
    const after = await producer.send({ topic, messages: [{ value: 'after', partition: 0 }, { value: 'after', partition: 1 }] });
    expect(after.map(({ partition, offset }) => ({ partition, offset }))).toEqual([
      { partition: 0, offset: 11 },
      { partition: 1, offset: 10 },
    ]);
    const log = (partition: number) => `${brook.options.prefix}:{${topic}:${partition}}:log`;
    expect(await ask(sentinel.primary.port, 'XLEN', log(0))).toBe(12);
    expect(await ask(sentinel.primary.port, 'XLEN', log(1))).toBe(11);
  });
});

describe('Redis Cluster', () => {
  let cluster: ClusterSetup;
  const prefixes: string[] = [];

  beforeAll(async () => {
    cluster = await ClusterSetup.start({ replicas: true });
  });
  afterEach(async () => {
    await Promise.all(prefixes.splice(0).map((prefix) => cluster.deleteKeys(prefix)));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  function brookOnCluster(options: Partial<BrookOptions> = {}): Brook {
    const brook = createBrook({ redis: cluster.connection, ...options });
    prefixes.push(brook.options.prefix);
    return brook;
  }

  it('spreads partition logs over the primaries and reports the node that really holds each', async () => {
    const brook = brookOnCluster();
    const topic = uniqueName('spread');
    await brook.admin().createTopic({ topic, partitions: 12 });
    const { partitions } = await brook.admin().describeTopic(topic);
    expect(partitions).toHaveLength(12);
    expect(new Set(partitions.map((p) => p.leader)).size).toBeGreaterThan(1);
    for (const partition of partitions) {
      const key = `${brook.options.prefix}:{${topic}:${partition.partition}}:log`;
      expect(partition.leader).toBe(await cluster.primaryFor(key));
      expect(partition.replicas).toEqual(await cluster.replicasOf(partition.leader));
      expect(partition.replicas).toHaveLength(1);
      const [host, port] = partition.leader.split(':');
      expect(host).toBe('127.0.0.1');
      expect(await ask(Number(port), 'TYPE', key)).toBe('stream');
    }
  });

  it('produces keyed messages to every partition with dense offsets from 0', async () => {
    const brook = brookOnCluster();
    const topic = uniqueName('keyed');
    await brook.admin().createTopic({ topic, partitions: 12 });
    const producer = brook.producer();
    const first = await producer.send({ topic, messages: range(240).map((i) => ({ key: `customer-${i}`, value: i })) });
    const second = await producer.send({ topic, messages: range(240).map((i) => ({ key: `customer-${i}`, value: i })) });
    const byPartition = offsetsByPartition([...first, ...second]);
    expect([...byPartition.keys()].sort((a, b) => a - b)).toEqual(range(12));
    for (const offsets of byPartition.values()) expect(offsets).toEqual(range(offsets.length));
    // The same key lands on the same partition in both sends.
    expect(second.map((m) => m.partition)).toEqual(first.map((m) => m.partition));

    const { partitions } = await brook.admin().describeTopic(topic);
    for (const partition of partitions) {
      expect({ partition: partition.partition, lowOffset: partition.lowOffset, highOffset: partition.highOffset }).toEqual({
        partition: partition.partition,
        lowOffset: 0,
        highOffset: byPartition.get(partition.partition)!.length,
      });
    }
  });

  it('creates, grows, trims and deletes topics across slots', async () => {
    const brook = brookOnCluster();
    const admin = brook.admin();
    const topic = uniqueName('lifecycle');
    expect(await admin.createTopic({ topic, partitions: 3, retention: { maxAgeMs: 1_000 } })).toBe(true);
    expect(await admin.createTopic({ topic, partitions: 3, retention: { maxAgeMs: 1_000 } })).toBe(false);
    await admin.addPartitions(topic, 12);
    expect(await admin.listTopics()).toEqual([{ topic, partitions: 12 }]);

    const old = await brook.producer().send({ topic, messages: range(12).map((partition) => ({ value: 'old', partition })) });
    // Retention goes by the Redis clock of each partition's primary: wait until every one passed it.
    for (const primary of cluster.primaries) await waitForRedisTime(Math.max(...old.map((m) => m.timestamp)) + 1_000, primary.url);
    await brook.producer().send({ topic, messages: range(12).map((partition) => ({ value: 'new', partition })) });
    expect(await admin.enforceRetention()).toEqual([{ topic, removed: 12 }]);
    const { partitions } = await admin.describeTopic(topic);
    expect(partitions.map(({ lowOffset, highOffset }) => ({ lowOffset, highOffset }))).toEqual(range(12).map(() => ({ lowOffset: 1, highOffset: 2 })));

    await admin.deleteTopic(topic);
    expect(await admin.listTopics()).toEqual([]);
    for (const primary of cluster.primaries) {
      expect(await ask(primary.port, 'KEYS', `${brook.options.prefix}:{${topic}:*`)).toEqual([]);
    }
  });

  it('resolves acks: all once every primary written to got its replica to confirm', async () => {
    const brook = brookOnCluster();
    const topic = uniqueName('durable');
    await brook.admin().createTopic({ topic, partitions: 12 });
    const metadata = await brook.producer({ acks: 'all', minInSyncReplicas: 1 }).send({ topic, messages: range(120).map((i) => ({ key: `k${i}`, value: i })) });
    const byPartition = offsetsByPartition(metadata);
    for (const offsets of byPartition.values()) expect(offsets).toEqual(range(offsets.length));

    const { partitions } = await brook.admin().describeTopic(topic);
    for (const partition of partitions) {
      const [replica] = partition.replicas;
      const key = `${brook.options.prefix}:{${topic}:${partition.partition}}:log`;
      expect(await cluster.readFromReplica(replica, 'XLEN', key)).toBe(byPartition.get(partition.partition)?.length ?? 0);
    }
  });

  it('waits only for the replicas of the primaries a send wrote to', async () => {
    const brook = brookOnCluster();
    const topic = uniqueName('frozen');
    await brook.admin().createTopic({ topic, partitions: 12 });
    const { partitions } = await brook.admin().describeTopic(topic);
    const frozenShard = partitions[0];
    const healthy = partitions.find((p) => p.leader !== frozenShard.leader)!;
    const replica = cluster.servers.find((server) => addressOf(server) === frozenShard.replicas[0])!;
    const producer = brook.producer({ acks: 'all', ackTimeoutMs: 300 });

    replica.signal('SIGSTOP');
    try {
      const [toFrozen, toHealthy] = await Promise.allSettled([
        producer.send({ topic, messages: [{ value: 'a', partition: frozenShard.partition }] }),
        // A separate producer: one flush covers every partition it touched and fails as a whole.
        brook.producer({ acks: 'all', ackTimeoutMs: 300 }).send({ topic, messages: [{ value: 'b', partition: healthy.partition }] }),
      ]);
      expect(toFrozen).toMatchObject({ status: 'rejected', reason: { code: 'NOT_ENOUGH_REPLICAS', acknowledged: 0 } });
      expect(toHealthy).toMatchObject({ status: 'fulfilled', value: [{ partition: healthy.partition, offset: 0 }] });
    } finally {
      replica.signal('SIGCONT');
    }
  });

  it('rejects acks: all with NotEnoughReplicasError when a primary has fewer replicas than required', async () => {
    const brook = brookOnCluster();
    const topic = uniqueName('undurable');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const send = brook.producer({ acks: 'all', minInSyncReplicas: 2, ackTimeoutMs: 200, deliveryTimeoutMs: 300 }).send({ topic, messages: [{ value: 1 }] });
    await expect(send).rejects.toBeInstanceOf(NotEnoughReplicasError);
    await expect(send).rejects.toMatchObject({ acknowledged: 1, required: 2 });
  });
});
