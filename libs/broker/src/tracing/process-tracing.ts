import type { Attributes, Context, Link, SpanOptions } from '@opentelemetry/api';
import type { ReceivedMessage } from '../message/message.js';
import type { AttemptTrace, TraceContext } from './attempt-trace.js';
import { SpanAttemptTrace } from './span-attempt-trace.js';
import { MESSAGING, MESSAGING_SYSTEM } from './messaging-attributes.js';
import { loadOtelApi } from './otel-api.js';
import { TracerSource } from './tracer-source.js';

/**
 * The CONSUMER ("process") spans of one group's handlers. A message's span is a child of the
 * producer's context found in its headers (`traceparent`, `tracestate`); a batch's span links to
 * every message's producer context, as the messaging conventions recommend. The handler runs
 * inside the span, so the application's own spans nest under it. Built only when `@opentelemetry/api` is installed; while no SDK is registered,
 * `start…` return `undefined` at the cost of a property read or two.
 */
export class ProcessTracing {
  /**
   * One attributes object, refilled for every span: the SDK copies start attributes into the span
   * (and samplers read them during `startSpan`), so no object is allocated per message for them.
   */
  private readonly attributes: Attributes;
  /** The options of every message's span, holding `attributes`: likewise read during `startSpan` only. */
  private readonly options: SpanOptions;
  private spanTopic = '';
  private spanName = '';

  private constructor(
    private readonly source: TracerSource,
    group: string,
  ) {
    this.attributes = {
      [MESSAGING.system]: MESSAGING_SYSTEM,
      [MESSAGING.operationType]: 'process',
      [MESSAGING.operationName]: 'process',
      [MESSAGING.destination]: '',
      [MESSAGING.partition]: '',
      [MESSAGING.group]: group,
      [MESSAGING.messageId]: '',
      [MESSAGING.offset]: 0,
      [MESSAGING.key]: undefined,
    };
    this.options = { kind: source.api.SpanKind.CONSUMER, attributes: this.attributes };
  }

  /** Tracing for a group's handlers, or `undefined` when tracing is off or the API is not installed. */
  static create(enabled: boolean, group: string): ProcessTracing | undefined {
    if (!enabled) return undefined;
    const api = loadOtelApi();
    return api === undefined ? undefined : new ProcessTracing(new TracerSource(api), group);
  }

  /** Starts the span of one delivery; returns the context to run its handler in, or `undefined` without an SDK. */
  startMessage(topic: string, partition: number, message: ReceivedMessage, messageId: string): TraceContext | undefined {
    const tracer = this.source.current();
    if (tracer === undefined) return undefined;
    const { api } = this.source;
    const creation = api.propagation.extract(api.ROOT_CONTEXT, message.headers, api.defaultTextMapGetter);
    const attributes = this.attributes;
    attributes[MESSAGING.destination] = topic;
    attributes[MESSAGING.partition] = String(partition);
    attributes[MESSAGING.messageId] = messageId;
    attributes[MESSAGING.offset] = message.offset;
    attributes[MESSAGING.key] = message.key ?? undefined;
    // The producer's context is the parent; a link to it as well would repeat the parent and cost a
    // link per message, so only batch spans (which have many producers and no parent) carry links.
    const span = tracer.startSpan(this.nameFor(topic), this.options, creation);
    return api.trace.setSpan(creation, span);
  }

  /**
   * Starts the span of a batch: a new trace linking to each message's producer context (a batch
   * has many parents, so none of them is its parent).
   */
  startBatch(topic: string, partition: number, messages: readonly ReceivedMessage[]): TraceContext | undefined {
    const tracer = this.source.current();
    if (tracer === undefined) return undefined;
    const { api } = this.source;
    const links: Link[] = [];
    for (const message of messages) {
      const producer = api.trace.getSpanContext(api.propagation.extract(api.ROOT_CONTEXT, message.headers, api.defaultTextMapGetter));
      if (producer !== undefined) links.push({ context: producer, attributes: { [MESSAGING.offset]: message.offset } });
    }
    const span = tracer.startSpan(
      this.nameFor(topic),
      {
        kind: api.SpanKind.CONSUMER,
        root: true,
        links,
        attributes: {
          [MESSAGING.system]: MESSAGING_SYSTEM,
          [MESSAGING.operationType]: 'process',
          [MESSAGING.operationName]: 'process',
          [MESSAGING.destination]: topic,
          [MESSAGING.partition]: String(partition),
          [MESSAGING.group]: this.attributes[MESSAGING.group],
          [MESSAGING.batchCount]: messages.length,
        },
      },
      api.ROOT_CONTEXT,
    );
    return api.trace.setSpan(api.ROOT_CONTEXT, span);
  }

  /** Calls `handler(payload)` inside the span's context. */
  run<P, R>(context: TraceContext, handler: (payload: P) => R, payload: P): R {
    return this.source.api.context.with(context as Context, handler, undefined, payload);
  }

  /** Ends the span of an attempt that succeeded. */
  succeeded(context: TraceContext): void {
    this.source.api.trace.getSpan(context as Context)?.end();
  }

  /** Marks the span of a failed attempt; the caller adds what follows and ends it. */
  failed(context: TraceContext, error: unknown): AttemptTrace | undefined {
    const { api } = this.source;
    const span = api.trace.getSpan(context as Context);
    if (span === undefined) return undefined;
    if (error instanceof Error) span.recordException(error);
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    if (error instanceof Error) span.setAttribute('error.type', error.name);
    return new SpanAttemptTrace(span);
  }

  private nameFor(topic: string): string {
    if (topic !== this.spanTopic) {
      this.spanTopic = topic;
      this.spanName = `process ${topic}`;
    }
    return this.spanName;
  }
}
