import { describe, expect, it } from 'vitest';
import type { Message, ReceivedMessage } from '@brook/broker';
import { ScriptClassifier } from '../faults/support/scenario-scripts.js';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { RedisServer } from '../support/redis-server.js';
import { FAST } from './helpers.js';

describe('fetching', () => {
  it('delivers keys, headers, timestamps and values byte for byte, also what arrives while it waits', async () => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 2 });
    const sent: Message[] = [
      { partition: 0, key: 'clé-€', value: { id: 1, text: 'naïve ✓' }, headers: { trace: 'ünïcode', empty: '' }, timestamp: 1_700_000_000_123 },
      { partition: 0, key: null, value: Buffer.from(Array.from({ length: 256 }, (_, byte) => byte)) },
      { partition: 0, key: '', value: '' },
      { partition: 1, value: null },
      { partition: 1, key: 'k', value: Buffer.alloc(0) },
      { partition: 1, key: 'big', value: 'x'.repeat(300_000) },
      { partition: 1, key: 'crlf\r\n', value: 'line\r\n$5\r\n*1\r\n' },
    ].map((message, n) => ({ ...message, headers: { ...message.headers, n: String(n) } }));
    const producer = brook.producer();
    await producer.send({ topic, messages: sent.slice(0, 4) });

    const seen: ReceivedMessage[] = [];
    const consumer = brook.consumer({ group: 'billing', ...FAST });
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
    await waitFor(() => seen.length >= 4, { message: 'the first 4 messages' });
    // The rest is produced while the consumer waits for news.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await producer.send({ topic, messages: sent.slice(4) });
    await waitFor(() => seen.length >= sent.length, { message: `${sent.length} messages` });

    expect(seen).toHaveLength(sent.length);
    for (const message of seen) {
      const expected = sent[Number(message.headers.n)];
      expect(message.key).toBe(expected.key ?? null);
      expect(message.headers).toEqual(expected.headers);
      if (expected.timestamp !== undefined) expect(message.timestamp).toBe(expected.timestamp);
      else expect(message.timestamp).toBeGreaterThan(0);
      if (Buffer.isBuffer(expected.value)) expect(Buffer.compare(message.value as Buffer, expected.value)).toBe(0);
      else expect(message.value).toEqual(expected.value);
    }
  });

  it('delivers what Redis handed to the member in a fetch whose reply never arrived, in order, without a rebalance', async () => {
    // The member reads through a proxy that lets one fetch run in Redis and drops its reply (and
    // closes that connection): the messages it delivered are in the member's pending list only.
    const server = await RedisServer.start();
    const proxy = await FaultProxy.start({ port: server.port });
    try {
      const admin = createBrook({ redis: server.url });
      const brook = createBrook({ redis: proxy.url, prefix: admin.options.prefix, connection: { retries: 1_000, initialBackoffMs: 10, maxBackoffMs: 50 } });
      const topic = uniqueName('orders');
      const group = uniqueName('billing');
      await admin.admin().createTopic({ topic, partitions: 2 });
      const producer = admin.producer();
      const seen: Array<[number, number]> = [];
      const skipped: number[] = [];
      let rebalances = 0;
      const consumer = brook.consumer({ group, ...FAST });
      consumer.on('skipped', ({ from, to }) => { for (let o = from; o <= to; o++) skipped.push(o); });
      consumer.on('rebalance', () => rebalances++);
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push([partition, message.offset]) });
      await producer.send({ topic, messages: [{ partition: 0, value: 0 }] });
      await waitFor(() => seen.length === 1, { message: 'the first message' });
      const rebalancesBefore = rebalances;

      const fetches = new ScriptClassifier({ prefix: admin.options.prefix, topic, partitions: 2, group }).calls('fetch');
      const dropped = proxy.dropReplyOnce(fetches);
      await producer.send({ topic, messages: [1, 2, 3].map((value) => ({ partition: 0, value })) });
      await dropped;
      await producer.send({ topic, messages: [4, 5].map((value) => ({ partition: 0, value })) });

      await waitFor(() => seen.length === 6, { message: 'all six messages' });
      expect(seen.filter(([partition]) => partition === 0).map(([, offset]) => offset)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(skipped).toEqual([]);
      // Only the read connection dropped: the member kept its partitions.
      expect(rebalances).toBe(rebalancesBefore);
      await waitFor(async () => {
        const { partitions } = await admin.admin().describeGroup({ group, topic });
        return partitions[0].lag === 0 && partitions[0].pending === 0 && partitions[0].committedOffset === 6;
      }, { message: 'partition 0 to be fully acknowledged' });
    } finally {
      await proxy.stop();
      await server.stop();
    }
  });

  it('loses nothing and repeats nothing while its fetch connection is killed again and again under load', async () => {
    const clientId = uniqueName('killed');
    const brook = createBrook({ clientId });
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 4 });
    const producer = brook.producer();
    const seen = new Map<string, number>();
    const consumer = brook.consumer({ group: 'billing', ...FAST });
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: 4,
      eachMessage: async ({ partition, message }) => {
        const key = `${partition}:${message.offset}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      },
    });

    const admin = rawRedis();
    const fetchConnection = async () => {
      const clients = (await admin.client('LIST')) as string;
      return /id=(\d+) .* name=(\S+)/.exec(clients.split('\n').find((line) => line.includes(` name=${clientId}:fetch `)) ?? '')?.[1];
    };
    let kills = 0;
    const killer = (async () => {
      for (let round = 0; round < 30; round++) {
        const sent = producer.send({ topic, messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 17}`, value: round * 100 + i })) });
        // The consumer reconnects on its own: wait for the new connection, then kill it while it reads.
        let id: string | undefined;
        await waitFor(async () => (id = await fetchConnection()) !== undefined, { intervalMs: 2, message: 'the fetch connection' });
        await admin.client('KILL', 'ID', id!);
        kills++;
        await sent;
      }
    })();
    await killer;
    await waitFor(() => seen.size === 3_000, { timeoutMs: 20_000, message: 'all 3,000 messages' });
    expect(kills).toBe(30);
    expect([...seen.values()].every((times) => times === 1)).toBe(true);
  });
});
