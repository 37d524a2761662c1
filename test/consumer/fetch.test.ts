import { describe, expect, it } from 'vitest';
import type { Message, ReceivedMessage } from '@brook/broker';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
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
    const brook = createBrook();
    const topic = uniqueName('orders');
    const group = uniqueName('billing');
    await brook.admin().createTopic({ topic, partitions: 2 });
    const producer = brook.producer();
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

    // Partition 0 is left out of every fetch from here on; the message on partition 1 ends the read
    // that was waiting when it was paused.
    consumer.pause([{ topic, partitions: [0] }]);
    await producer.send({ topic, messages: [{ partition: 1, value: 1 }] });
    await waitFor(() => seen.length === 2, { message: 'the message on partition 1' });
    const rebalancesBefore = rebalances;

    // A fetch Redis ran for this member but whose reply was lost: three messages in its pending list.
    await producer.send({ topic, messages: [1, 2, 3].map((value) => ({ partition: 0, value })) });
    const log = `${brook.options.prefix}:{${topic}:0}:log`;
    // The member reads under its fencing token, which the lease holds.
    const token = (await rawRedis().get(`${brook.options.prefix}:{${topic}:0}:lease:${group}`))!;
    expect(token.startsWith(`${consumer.memberId}:`)).toBe(true);
    const lost = (await rawRedis().xreadgroup('GROUP', group, token, 'COUNT', 3, 'STREAMS', log, '>')) as Array<[string, unknown[]]>;
    expect(lost[0][1]).toHaveLength(3);
    await producer.send({ topic, messages: [4, 5].map((value) => ({ partition: 0, value })) });

    consumer.resume([{ topic, partitions: [0] }]);
    await waitFor(() => seen.length === 7, { message: 'all seven messages' });
    expect(seen.filter(([partition]) => partition === 0).map(([, offset]) => offset)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(skipped).toEqual([]);
    expect(rebalances).toBe(rebalancesBefore);
    await waitFor(async () => {
      const { partitions } = await brook.admin().describeGroup({ group, topic });
      return partitions[0].lag === 0 && partitions[0].pending === 0 && partitions[0].committedOffset === 6;
    }, { message: 'partition 0 to be fully acknowledged' });
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
