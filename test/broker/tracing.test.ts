import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { correlationIdOf, InvalidArgumentError, type ReceivedMessage } from '@brook/broker';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = trace.getTracer('test');
const FAST = { sessionTimeoutMs: 1_000, heartbeatIntervalMs: 50, maxWaitTimeMs: 500 };

beforeEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

const named = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

/** Consumes `count` messages of `topic` with a plain consumer and returns them. */
async function consumeAll(brook: ReturnType<typeof createBrook>, topic: string, count: number): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  const consumer = brook.consumer({ group: uniqueName('reader'), ...FAST });
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void received.push(message) });
  await waitFor(() => received.length === count, { message: `${count} messages` });
  await consumer.stop();
  return received;
}

// The tests run in order: the first one before any SDK is registered.
describe('tracing', () => {
  it('adds nothing while no SDK is registered: no headers, no spans', async () => {
    const brook = createBrook();
    const topic = uniqueName('plain');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await brook.producer().send({ topic, messages: [{ key: 'a', value: 1 }] });
    const [message] = await consumeAll(brook, topic, 1);
    expect(message.headers).toEqual({});
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('sends one PRODUCER span per topic of a send, its context in each message, and keeps a traceparent the message already carries', async () => {
    provider.register();
    const brook = createBrook();
    const topic = uniqueName('traced');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await brook.producer().send({ topic, messages: [{ value: 1 }, { value: 2, headers: { traceparent: own, source: 'test' } }] });
    const [send] = named(`send ${topic}`);
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes).toMatchObject({ 'messaging.system': 'brook', 'messaging.destination.name': topic, 'messaging.batch.message_count': 2 });
    const [first, second] = await consumeAll(brook, topic, 2);
    expect(first.headers.traceparent).toBe(`00-${send.spanContext().traceId}-${idOf(send)}-01`);
    expect(second.headers).toEqual({ traceparent: own, source: 'test' });
    expect(correlationIdOf(first.headers)).toBe(send.spanContext().traceId);
  });

  it('does not trace a client created with tracing: false', async () => {
    const brook = createBrook({ tracing: false });
    const topic = uniqueName('untraced');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await brook.producer().send({ topic, messages: [{ value: 1 }] });
    const [message] = await consumeAll(brook, topic, 1);
    expect(message.headers).toEqual({});
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('gives a batch one CONSUMER span linking to every message’s producer, the handler running inside it', async () => {
    const brook = createBrook();
    const topic = uniqueName('batched');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 1 }] });
    await producer.send({ topic, messages: [{ value: 2 }, { value: 3 }] });
    const sends = named(`send ${topic}`);
    const consumer = brook.consumer({ group: 'bulk', ...FAST });
    await consumer.subscribe({ topic, fromBeginning: true });
    const sizes: number[] = [];
    let active: string | undefined;
    await consumer.run({
      eachBatch: async ({ batch }) => {
        sizes.push(batch.messages.length);
        active = trace.getActiveSpan()?.spanContext().spanId;
      },
    });
    await waitFor(() => sizes.reduce((a, b) => a + b, 0) === 3);
    await consumer.stop();
    const batches = named(`process ${topic}`);
    expect(batches).toHaveLength(sizes.length);
    const last = batches[batches.length - 1];
    expect(active).toBe(idOf(last));
    expect(last.kind).toBe(SpanKind.CONSUMER);
    expect(last.attributes).toMatchObject({ 'messaging.consumer.group.name': 'bulk', 'messaging.destination.partition.id': '0', 'messaging.batch.message_count': sizes[sizes.length - 1] });
    const linked = batches.flatMap((span) => span.links.map((link) => link.context.spanId));
    expect(linked).toHaveLength(3);
    expect(new Set(linked)).toEqual(new Set(sends.map(idOf)));
  });

  it('gives each record of a share group a process span parented to its producer, with the dead letter as an event', async () => {
    const brook = createBrook();
    const topic = uniqueName('shared');
    await brook.admin().createTopic({ topic, partitions: 2 });
    await tracer.startActiveSpan('request', async (span) => {
      await brook.producer().send({ topic, messages: [{ key: 'ok', value: 1 }, { key: 'bad', value: 2 }] });
      span.end();
    });
    const [send] = named(`send ${topic}`);
    const mailers = brook.shareConsumer({ group: 'mailers', deliveryLimit: 2 });
    await mailers.subscribe({ topic, fromBeginning: true });
    const deadLettered: number[] = [];
    mailers.on('dead-letter', ({ offset }) => deadLettered.push(offset));
    await mailers.run({
      retry: { backoff: { type: 'fixed', initialMs: 10, jitter: 0 } },
      eachMessage: async ({ message }) => {
        if (message.key === 'bad') throw new Error('no such mailbox');
      },
    });
    await waitFor(() => deadLettered.length === 1 && named(`process ${topic}`).length === 3, { message: 'a success and two failed deliveries' });
    await mailers.stop();
    const processes = named(`process ${topic}`);
    for (const process of processes) {
      expect(process.parentSpanContext?.spanId).toBe(idOf(send));
      expect(process.attributes).toMatchObject({ 'messaging.consumer.group.name': 'mailers', 'messaging.destination.name': topic });
    }
    const bad = processes.filter((span) => span.attributes['messaging.brook.message.key'] === 'bad');
    expect(bad.map((span) => span.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR]);
    expect(bad.map((span) => span.events.map((event) => event.name))).toEqual([
      ['exception', 'brook.retry'],
      ['exception', 'brook.dead_letter'],
    ]);
  });

  it('sends a message’s correlationId as the brook-correlation-id header and refuses a bad one', async () => {
    const brook = createBrook();
    const topic = uniqueName('correlated');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const producer = brook.producer();
    await producer.send({ topic, messages: [{ value: 1, correlationId: 'req-42', headers: { source: 'api' } }] });
    await expect(producer.send({ topic, messages: [{ value: 2, correlationId: '' }] })).rejects.toThrow(InvalidArgumentError);
    const [message] = await consumeAll(brook, topic, 1);
    expect(message.headers).toMatchObject({ 'brook-correlation-id': 'req-42', source: 'api' });
    expect(correlationIdOf(message.headers)).toBe('req-42');
  });
});
