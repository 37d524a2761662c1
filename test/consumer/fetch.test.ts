import { describe, expect, it } from 'vitest';
import type { Message, ReceivedMessage } from '@brook/broker';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
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
});
