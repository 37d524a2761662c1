import type { Span } from '@opentelemetry/api';
import type { AttemptTrace } from './attempt-trace.js';
import { MESSAGING, TRACE_EVENTS } from './messaging-attributes.js';

/** An {@link AttemptTrace} on an OpenTelemetry span. */
export class SpanAttemptTrace implements AttemptTrace {
  private ended = false;

  constructor(private readonly span: Span) {}

  retried(offset: number, attempt: number, delayMs: number, mode: 'blocking' | 'non-blocking'): void {
    this.span.addEvent(TRACE_EVENTS.retry, { [MESSAGING.offset]: offset, 'brook.retry.attempt': attempt, 'brook.retry.delay_ms': delayMs, 'brook.retry.mode': mode });
  }

  deadLettered(offset: number, reason: string, attempts: number, deadLetterId: string | undefined): void {
    this.span.addEvent(TRACE_EVENTS.deadLetter, {
      [MESSAGING.offset]: offset,
      'brook.dead_letter.reason': reason,
      'brook.dead_letter.attempts': attempts,
      ...(deadLetterId === undefined ? {} : { 'brook.dead_letter.id': deadLetterId }),
    });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end();
  }
}
