import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerError, Producer } from '@brook/broker';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { decodeValue, readEntry } from '../../libs/broker/src/message/wire.js';
import { jsonCodec } from '../../libs/broker/src/codec/codec.js';
import { createBrook, rawRedis, uniqueName } from '../support/brook.js';
import { argumentContains, FaultProxy, type ProxiedCommand } from '../support/fault-proxy.js';
import { RedisServer } from '../support/redis-server.js';

// Defect 2 of issue 11: a command that ran but whose reply was lost was sent again (by ioredis or
// by Brook's own retry) and appended twice. The proxy lets the produce script run, drops its reply
// and closes the connection; the producer must retry with a repeat Redis recognises.

/** The produce script, whichever way ioredis sends it (EVAL on a fresh connection, else EVALSHA). */
const PRODUCE = argumentContains(':producers');

let server: RedisServer;
let proxy: FaultProxy;

beforeAll(async () => {
  server = await RedisServer.start();
  proxy = await FaultProxy.start({ port: server.port });
});
afterAll(async () => {
  await proxy.stop();
  await server.stop();
});

/** A topic on a client that reaches Redis through the proxy, reconnecting fast. */
async function proxiedTopic(partitions = 1) {
  const brook = createBrook({ redis: proxy.url, connection: { retries: 50, initialBackoffMs: 10, maxBackoffMs: 50 } });
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions });
  return { brook, topic, keys: new KeySpace(brook.options.prefix) };
}

interface Stored {
  offset: number;
  messageId: string;
  timestamp: number;
  key: string | null;
  value: unknown;
}

/** The partition log as stored, read straight from the server. */
async function readLog(keys: KeySpace, topic: string, partition = 0): Promise<Stored[]> {
  const entries = (await rawRedis(server.url).xrangeBuffer(keys.log(topic, partition), '-', '+')) as Array<[Buffer, Buffer[]]>;
  return entries.map(([id, fields]) => {
    const entry = readEntry(fields);
    const messageId = fields[fields.findIndex((field, i) => i % 2 === 0 && field.toString() === 'i') + 1].toString();
    return { offset: Number(id.toString().split('-')[1]) - 1, messageId, timestamp: entry.timestamp, key: entry.key, value: decodeValue(entry, jsonCodec) };
  });
}

/** Produce scripts that reached Redis since `from` (an index into `proxy.seen`). */
function producesSince(from: number): ProxiedCommand[] {
  return proxy.seen.slice(from).filter(PRODUCE);
}

function recordErrors(producer: Producer): Array<{ operation: string; error: BrokerError }> {
  const errors: Array<{ operation: string; error: BrokerError }> = [];
  producer.on('request.error', (event) => errors.push(event));
  return errors;
}

describe('a produce reply lost after Redis appended the batch', () => {
  it('regression: one send whose reply was lost was appended twice (A, B, B); it is appended once and resolves with its original offset', async () => {
    const { brook, topic, keys } = await proxiedTopic();
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 'A' }] });

    const from = proxy.seen.length;
    const dropped = proxy.dropReplyOnce(PRODUCE);
    const metadata = await producer.send({ topic, messages: [{ value: 'B' }] });
    await dropped;

    const log = await readLog(keys, topic);
    expect(log.map((entry) => entry.value)).toEqual(['A', 'B']);
    // The batch reached Redis twice: once with the lost reply, once as the repeat it answered `duplicate`.
    const sent = producesSince(from);
    expect(sent).toHaveLength(2);
    // EVAL carries the source and EVALSHA the digest; everything after it (keys, sequence, messages) is the same.
    expect(sent[1].args.slice(1).map(String)).toEqual(sent[0].args.slice(1).map(String));
    expect(metadata).toEqual([{ topic, partition: 0, offset: 1, timestamp: log[1].timestamp }]);
  });

  it('regression: two keyed sends in flight with a lost reply gave the key the sequence 0,1,2,1,2; it stays 0,1,2,3,4 without repeats', async () => {
    const { brook, topic, keys } = await proxiedTopic();
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ key: 'customer-1', value: { seq: 0 } }, { key: 'customer-2', value: { seq: 0 } }] });

    const dropped = proxy.dropReplyOnce(PRODUCE);
    const sends: Array<Promise<unknown>> = [];
    // One send per turn of the event loop, so each is a batch of its own queued behind the one in flight.
    for (let seq = 1; seq <= 4; seq++) {
      sends.push(producer.send({ topic, messages: [{ key: 'customer-1', value: { seq } }, { key: 'customer-2', value: { seq } }] }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = (await Promise.all(sends)) as Array<Array<{ offset: number }>>;
    await dropped;

    const log = await readLog(keys, topic);
    for (const key of ['customer-1', 'customer-2']) {
      expect(log.filter((entry) => entry.key === key).map((entry) => (entry.value as { seq: number }).seq)).toEqual([0, 1, 2, 3, 4]);
    }
    expect(new Set(log.map((entry) => entry.messageId)).size).toBe(log.length);
    expect(results.flat().map((m) => m.offset)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('reports the retried send as a retriable request.error, and the send still resolves', async () => {
    const { brook, topic } = await proxiedTopic();
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 'warm-up' }] });
    const errors = recordErrors(producer);

    const dropped = proxy.dropReplyOnce(PRODUCE);
    await expect(producer.send({ topic, messages: [{ value: 'once' }] })).resolves.toMatchObject([{ offset: 1 }]);
    await dropped;

    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const { operation, error } of errors) {
      expect(operation).toBe(`send to partition 0 of '${topic}'`);
      expect(error).toMatchObject({ code: 'CONNECTION', retriable: true });
    }
  });
});
