import './support.js';
import { Injectable } from '@nestjs/common';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ctx, InjectProducer, MessageContext, Payload, Producer, Subscribe } from '@brook/nest-adapter';
import { uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { brokerOptions, startApp } from './support.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = trace.getTracer('orders-service');

beforeAll(() => provider.register());
beforeEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((span) => span.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

describe('tracing across two Nest applications', () => {
  it('continues the producer’s trace in the consumer: send and process spans, the handler’s own spans nested, retries and dead letters as events', async () => {
    const topic = uniqueName('orders.created');
    const prefix = uniquePrefix();
    const seen: Array<{ amount: number; attempt: number; correlationId: string | undefined; traceId: string | undefined }> = [];

    @Injectable()
    class Checkout {
      constructor(@InjectProducer() private readonly producer: Producer) {}

      /** What an HTTP handler would do: publish inside its request span. */
      place(amount: number, correlationId?: string) {
        return tracer.startActiveSpan('POST /orders', async (span) => {
          try {
            return await this.producer.send({ topic, messages: [{ key: `customer-${amount}`, value: { amount }, correlationId }] });
          } finally {
            span.end();
          }
        });
      }
    }

    @Injectable()
    class Billing {
      @Subscribe(topic, 'billing', { retry: { attempts: 2 } })
      async charge(@Payload() order: { amount: number }, @Ctx() ctx: MessageContext) {
        seen.push({ amount: order.amount, attempt: ctx.attempt, correlationId: ctx.correlationId, traceId: trace.getActiveSpan()?.spanContext().traceId });
        await tracer.startActiveSpan('charge card', async (span) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          span.end();
        });
        if (order.amount === 13 && ctx.attempt < 2) throw new Error('gateway timeout');
        if (order.amount === 666) throw new Error('card processor exploded');
      }
    }

    const producerApp = await startApp({ providers: [Checkout] }, brokerOptions({ prefix, clientId: 'checkout', topics: [{ topic, partitions: 2 }] }));
    await startApp({ providers: [Billing] }, brokerOptions({ prefix, clientId: 'billing' }));
    const checkout = producerApp.get(Checkout);
    const [landed] = await checkout.place(10, 'req-10');
    await checkout.place(13);
    await checkout.place(666);

    await waitFor(() => named('process ' + topic).length === 5 && named('charge card').length === 5, { message: 'five process spans and their nested spans' });
    const requests = named('POST /orders');
    const sends = named(`send ${topic}`);
    expect(sends).toHaveLength(3);
    for (const send of sends) {
      expect(send.kind).toBe(SpanKind.PRODUCER);
      // The send span is a child of the request span it was made in.
      expect(requests.map(idOf)).toContain(parentOf(send));
      expect(send.attributes).toMatchObject({ 'messaging.system': 'brook', 'messaging.operation.type': 'send', 'messaging.operation.name': 'send', 'messaging.destination.name': topic });
    }
    const firstSend = sends.find((span) => span.attributes['messaging.brook.offset'] === landed.offset && span.attributes['messaging.destination.partition.id'] === String(landed.partition))!;
    expect(firstSend).toBeDefined();

    const processes = named(`process ${topic}`);
    for (const process of processes) {
      expect(process.kind).toBe(SpanKind.CONSUMER);
      const send = sends.find((span) => idOf(span) === parentOf(process));
      // Parented to the producer's span, in the producer's trace.
      expect(send).toBeDefined();
      expect(process.spanContext().traceId).toBe(send!.spanContext().traceId);
      expect(process.attributes).toMatchObject({
        'messaging.system': 'brook',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': topic,
        'messaging.consumer.group.name': 'billing',
      });
      expect(process.attributes['messaging.destination.partition.id']).toMatch(/^[01]$/);
      expect(process.attributes['messaging.message.id']).toEqual(expect.any(String));
      expect(process.attributes['messaging.brook.offset']).toEqual(expect.any(Number));
      expect(process.attributes['messaging.brook.message.key']).toMatch(/^customer-/);
    }
    // The handler's own span nests under the process span of its delivery.
    for (const charge of named('charge card')) expect(processes.map(idOf)).toContain(parentOf(charge));

    const byKey = (key: string) => processes.filter((span) => span.attributes['messaging.brook.message.key'] === key).sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    const [ok] = byKey('customer-10');
    expect(ok.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(ok.events).toEqual([]);
    expect(ok.attributes).toMatchObject({ 'messaging.destination.partition.id': String(landed.partition), 'messaging.brook.offset': landed.offset });

    const [failedOnce, succeeded] = byKey('customer-13');
    expect(failedOnce.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'Error: gateway timeout' });
    expect(failedOnce.events.map((event) => event.name)).toEqual(['exception', 'brook.retry']);
    expect(failedOnce.events[1].attributes).toMatchObject({ 'brook.retry.attempt': 2, 'brook.retry.mode': 'blocking' });
    expect(succeeded.status.code).not.toBe(SpanStatusCode.ERROR);

    const [retried, deadLettered] = byKey('customer-666');
    expect(retried.events.map((event) => event.name)).toEqual(['exception', 'brook.retry']);
    expect(deadLettered.status.code).toBe(SpanStatusCode.ERROR);
    expect(deadLettered.events.map((event) => event.name)).toEqual(['exception', 'brook.dead_letter']);
    expect(deadLettered.events[1].attributes).toMatchObject({ 'brook.dead_letter.reason': 'handler-error', 'brook.dead_letter.attempts': 2, 'brook.dead_letter.id': expect.any(String) });

    // The correlation id: the producer's when it set one, else the trace id; the active span in the handler is the process span's.
    const traceOf = (amount: number) => sends.find((send) => processes.some((p) => parentOf(p) === idOf(send) && p.attributes['messaging.brook.message.key'] === `customer-${amount}`))!.spanContext().traceId;
    expect(seen.find((s) => s.amount === 10)).toMatchObject({ correlationId: 'req-10', traceId: traceOf(10) });
    expect(seen.find((s) => s.amount === 13)).toMatchObject({ correlationId: traceOf(13), traceId: traceOf(13) });
  });
});
