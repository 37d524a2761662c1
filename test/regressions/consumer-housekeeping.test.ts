import { describe, expect, inject, it } from 'vitest';
import { UnknownTopicError, type Brook, type BrokerError, type Consumer } from '@brook/broker';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { createBrook, rawRedis, redisTimeMs, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';
import { startMember } from '../support/members.js';

const FAST = { sessionTimeoutMs: 1_000, heartbeatIntervalMs: 50, maxWaitTimeMs: 1_000 } as const;

async function startConsumer(brook: Brook, topic: string, handled: number[] = [], group = 'billing'): Promise<Consumer> {
  const consumer = brook.consumer({ group, ...FAST });
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachMessage: async ({ message }) => {
      handled.push(message.offset);
    },
  });
  return consumer;
}

async function describeGroup(brook: Brook, topic: string, group = 'billing') {
  return brook.admin().describeGroup({ group, topic });
}

async function caughtUp(brook: Brook, topic: string): Promise<boolean> {
  return (await describeGroup(brook, topic)).partitions.every((partition) => partition.lag === 0);
}

/** The Redis consumers of the group on each partition log, and the token holding each lease. */
async function redisConsumers(brook: Brook, topic: string, partitions: number) {
  const keys = new KeySpace(brook.options.prefix);
  const redis = rawRedis();
  return Promise.all(
    Array.from({ length: partitions }, async (_, partition) => {
      const consumers = (await redis.call('XINFO', 'CONSUMERS', keys.log(topic, partition), 'billing')) as unknown[];
      const names = consumers.map((fields) => {
        // RESP3 replies come as maps, RESP2 replies as flat field lists.
        if (Array.isArray(fields)) return String(fields[fields.indexOf('name') + 1]);
        return String((fields as Record<string, unknown>).name);
      });
      return { partition, names, owner: await redis.get(keys.lease(topic, partition, 'billing')) };
    }),
  );
}

describe('Redis consumers of released and taken-over leases', () => {
  it('regression: Redis consumers were never deleted, so every restart added one per partition', async () => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 2 });
    const producer = brook.producer();

    // Five graceful restarts, each with something to process.
    for (let round = 0; round < 5; round++) {
      const consumer = await startConsumer(brook, topic);
      await producer.send({ topic, messages: Array.from({ length: 4 }, (_, seq) => ({ key: `k${seq}`, value: { round, seq } })) });
      await waitFor(() => caughtUp(brook, topic), { message: `round ${round} to be processed` });
      await consumer.stop();
    }
    expect(await redisConsumers(brook, topic, 2)).toEqual([
      { partition: 0, names: [], owner: null },
      { partition: 1, names: [], owner: null },
    ]);

    // A member killed with messages pending on both partitions, and another that takes over.
    const killed = await startMember('killed', {
      redisUrl: inject('redisUrl'),
      prefix: brook.options.prefix,
      topic,
      group: 'billing',
      records: `${brook.options.prefix}:records`,
      sessionMs: FAST.sessionTimeoutMs,
      heartbeatMs: FAST.heartbeatIntervalMs,
      handlerDelayMs: 5_000,
    });
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, seq) => ({ key: `k${seq}`, value: { seq } })) });
    await waitFor(async () => (await describeGroup(brook, topic)).partitions.every((partition) => partition.pending > 0), {
      message: 'the member to hold pending messages on both partitions',
    });
    killed.signal('SIGKILL');
    await killed.exited;

    await startConsumer(brook, topic);
    await waitFor(() => caughtUp(brook, topic), { message: 'the next member to take over and process everything' });
    for (const { partition, names, owner } of await redisConsumers(brook, topic, 2)) {
      expect(owner, `partition ${partition} has an owner`).not.toBeNull();
      expect(names.filter((name) => name !== owner), `partition ${partition}: consumers other than the owner ${owner}`).toEqual([]);
    }
  });
});

describe('topics deleted under a consumer', () => {
  it('regression: consumers of a deleted topic stalled without an error event', async () => {
    // One group consumes through the client that deletes the topic, another through a client of its own.
    const brook = createBrook();
    const other = createBrook({ prefix: brook.options.prefix });
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 2 });
    const errors = new Map<string, BrokerError[]>([['billing', []], ['shipping', []]]);
    for (const [client, group] of [[brook, 'billing'], [other, 'shipping']] as const) {
      const consumer = await startConsumer(client, topic, [], group);
      consumer.on('request.error', ({ error }) => errors.get(group)!.push(error));
      await waitFor(async () => (await describeGroup(brook, topic, group)).partitions.every((partition) => partition.owner !== null), { message: `the partitions of ${group} to be owned` });
    }

    await brook.admin().deleteTopic(topic);

    const unknownTopic = (group: string) => errors.get(group)!.find((error): error is UnknownTopicError => error instanceof UnknownTopicError);
    // Waits for both, then says which group got none.
    await waitFor(() => [...errors.keys()].every(unknownTopic), { timeoutMs: 5_000 }).catch(() => undefined);
    for (const group of errors.keys()) {
      const error = unknownTopic(group);
      expect(error, `an UnknownTopicError event in group ${group}; got ${JSON.stringify(errors.get(group)!.map((e) => e.message))}`).toBeDefined();
      expect(error!.topic).toBe(topic);
      expect(error!.message).toContain(`'${topic}'`);
    }
  });

  it('regression: a topic deleted and created again with fewer partitions left phantom partitions assigned', async () => {
    const operator = createBrook();
    const brook = createBrook({ prefix: operator.options.prefix });
    const topic = uniqueName('orders');
    await operator.admin().createTopic({ topic, partitions: 3 });
    const handled: number[] = [];
    const consumer = await startConsumer(brook, topic, handled);
    const errors: BrokerError[] = [];
    consumer.on('request.error', ({ error }) => errors.push(error));
    await waitFor(async () => (await describeGroup(operator, topic)).partitions.every((partition) => partition.owner !== null), { message: 'all 3 partitions to be owned' });

    await operator.admin().deleteTopic(topic);
    await operator.admin().createTopic({ topic, partitions: 2 });
    await operator.producer().send({ topic, messages: [{ partition: 0, value: 'a' }, { partition: 1, value: 'b' }] });

    await waitFor(
      async () => {
        const group = await describeGroup(operator, topic);
        const assigned = group.members.flatMap((member) => member.partitions).sort();
        return handled.length >= 2 && group.partitions.length === 2 && group.partitions.every((p) => p.owner !== null && p.lag === 0) && assigned.join() === '0,1';
      },
      { message: 'the member to own exactly partitions 0 and 1 of the new topic and process them', timeoutMs: 5_000 },
    );
    // Settled: over the next second, no more attempts at a partition that does not exist.
    const before = errors.length;
    await waitForRedisTime((await redisTimeMs()) + 1_000);
    expect(errors.slice(before).map((error) => error.message)).toEqual([]);
    expect((await describeGroup(operator, topic)).members.flatMap((member) => member.partitions).sort()).toEqual([0, 1]);
  });
});
