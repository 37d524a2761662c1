/**
 * The span of a failed attempt, kept open until the consumer decided what follows: another attempt
 * or a parked retry (a `brook.retry` event), or a dead letter (`brook.dead_letter`). Only failed
 * attempts under a registered SDK get one. (No OpenTelemetry type appears here: the consumer's
 * declarations reach this file, and the API is an optional dependency.)
 */
export interface AttemptTrace {
  /** The message is delivered again: attempt number `attempt`, after `delayMs`. */
  retried(offset: number, attempt: number, delayMs: number, mode: 'blocking' | 'non-blocking'): void;
  /** The message went to the dead-letter topic. */
  deadLettered(offset: number, reason: string, attempts: number, deadLetterId: string | undefined): void;
  end(): void;
}

/** An OpenTelemetry `Context`, opaque outside this folder for the same reason. */
export type TraceContext = object;
