import type { Span } from '@opentelemetry/api';
import type { Message, RecordMetadata } from '../message/message.js';
import { MESSAGING, MESSAGING_SYSTEM } from './messaging-attributes.js';
import { loadOtelApi } from './otel-api.js';
import { TracerSource } from './tracer-source.js';

/**
 * The PRODUCER ("send") spans of a producer: one per topic of a `send()` call, a child of the
 * caller's active context; its context travels in each message's headers (`traceparent`,
 * `tracestate`, through the propagator the application registered), so the consumer's spans join
 * the trace.
 */
export class SendTracing {
  private constructor(private readonly source: TracerSource) {}

  /** Tracing for a producer, or `undefined` when tracing is off or the API is not installed. */
  static create(enabled: boolean): SendTracing | undefined {
    if (!enabled) return undefined;
    const api = loadOtelApi();
    return api === undefined ? undefined : new SendTracing(new TracerSource(api));
  }

  /** Whether an SDK is registered: without one, sends carry no span and nothing is allocated for them. */
  active(): boolean {
    return this.source.current() !== undefined;
  }

  /** Starts the span of sending `count` messages to `topic`, or `undefined` without an SDK. */
  start(topic: string, count: number): SendTrace | undefined {
    const tracer = this.source.current();
    if (tracer === undefined) return undefined;
    const { api } = this.source;
    const active = api.context.active();
    const span = tracer.startSpan(
      `send ${topic}`,
      {
        kind: api.SpanKind.PRODUCER,
        attributes: {
          [MESSAGING.system]: MESSAGING_SYSTEM,
          [MESSAGING.operationType]: 'send',
          [MESSAGING.operationName]: 'send',
          [MESSAGING.destination]: topic,
          ...(count > 1 ? { [MESSAGING.batchCount]: count } : {}),
        },
      },
      active,
    );
    const headers: Record<string, string> = {};
    api.propagation.inject(api.trace.setSpan(active, span), headers, api.defaultTextMapSetter);
    return new SendTrace(this.source, span, headers);
  }
}

/** One send span and the headers that carry its context. */
export class SendTrace {
  constructor(
    private readonly source: TracerSource,
    private readonly span: Span,
    private readonly headers: Record<string, string>,
  ) {}

  /**
   * The message with the span's context added to its headers. The input is not modified; a message
   * that already carries a `traceparent` keeps it, and malformed input is left for the encoder to
   * refuse.
   */
  withContext(message: Message): Message {
    if (message === null || typeof message !== 'object' || Object.keys(this.headers).length === 0) return message;
    const { headers } = message;
    if (headers !== undefined && headers !== null && (typeof headers !== 'object' || Array.isArray(headers) || headers.traceparent !== undefined)) return message;
    return { ...message, headers: { ...headers, ...this.headers } };
  }

  /** Ends the span once the messages landed; a single message's partition and offset become attributes. */
  landed(results: readonly RecordMetadata[]): void {
    if (results.length === 1 && results[0].offset >= 0) {
      this.span.setAttribute(MESSAGING.partition, String(results[0].partition));
      this.span.setAttribute(MESSAGING.offset, results[0].offset);
    }
    this.span.end();
  }

  /** Ends the span of a send that failed. */
  failed(error: unknown): void {
    const { api } = this.source;
    if (error instanceof Error) {
      this.span.recordException(error);
      this.span.setAttribute('error.type', error.name);
    }
    this.span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    this.span.end();
  }
}
