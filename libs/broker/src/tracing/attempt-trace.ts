import type { Span } from '@opentelemetry/api';
import { MESSAGING, TRACE_EVENTS } from './messaging-attributes.js';

/**
 * The span of a failed attempt, kept open until the consumer decided what follows: another attempt
 * or a parked retry (a `brook.retry` event), or a dead letter (`brook.dead_letter`). Only failed
 * attempts under a registered SDK get one.
 */
export class AttemptTrace {
  private ended = false;

  constructor(private readonly span: Span) {}

  /** The message is delivered again: attempt number `attempt`, after `delayMs`. */
  retried(offset: number, attempt: number, delayMs: number, mode: 'blocking' | 'non-blocking'): void {
    this.span.addEvent(TRACE_EVENTS.retry, { [MESSAGING.offset]: offset, 'brook.retry.attempt': attempt, 'brook.retry.delay_ms': delayMs, 'brook.retry.mode': mode });
  }

  /** The message went to the dead-letter topic. */
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
