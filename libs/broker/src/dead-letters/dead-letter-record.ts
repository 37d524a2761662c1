/** Why a message was dead-lettered (`operator`: an operator skipped it, see `DeadLetterAdmin.skip`). */
export const DEAD_LETTER_REASONS = ['handler-error', 'non-retriable', 'undecodable', 'validation', 'timeout', 'operator'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** A bounded, JSON-safe description of whatever a handler threw. */
export interface ErrorSummary {
  name: string;
  message: string;
  stack?: string;
}

const MAX_MESSAGE_CHARS = 1_000;
const MAX_STACK_CHARS = 4_000;

/** Describes a thrown value within bounds; the stack only when asked for (formatting it is the costly part). */
export function summarizeError(error: unknown, { stack = true } = {}): ErrorSummary {
  if (error instanceof Error) {
    return { name: error.name, message: error.message.slice(0, MAX_MESSAGE_CHARS), stack: stack ? error.stack?.slice(0, MAX_STACK_CHARS) : undefined };
  }
  if (error !== null && typeof error === 'object' && 'name' in error && 'message' in error) {
    const record = error as { name: unknown; message: unknown; stack?: unknown };
    return {
      name: describeValue(record.name),
      message: describeValue(record.message).slice(0, MAX_MESSAGE_CHARS),
      stack: stack && typeof record.stack === 'string' ? record.stack.slice(0, MAX_STACK_CHARS) : undefined,
    };
  }
  return { name: 'NonError', message: describeValue(error).slice(0, MAX_MESSAGE_CHARS) };
}

/** `String(value)`, or what Object.prototype.toString says when that throws (an object without a prototype). */
function describeValue(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** What a dead letter says about the failure, next to the original message. */
export interface DeadLetterDiagnosis {
  topic: string;
  partition: number;
  offset: number;
  group: string;
  handler: string;
  /** Handler attempts made (0 when it never ran). */
  attempts: number;
  reason: DeadLetterReason;
  error: unknown;
}

/**
 * The diagnostic fields a dead letter stores beside the original message's fields (the
 * dead-letter script adds the first and last failure times). `parseDeadLetter` reads them back.
 */
export function deadLetterFields(diagnosis: DeadLetterDiagnosis): Array<string | number> {
  const summary = summarizeError(diagnosis.error);
  return [
    'topic', diagnosis.topic,
    'partition', diagnosis.partition,
    'offset', diagnosis.offset,
    'group', diagnosis.group,
    'handler', diagnosis.handler,
    'attempts', diagnosis.attempts,
    'reason', diagnosis.reason,
    'errorName', summary.name,
    'errorMessage', summary.message,
    'errorStack', summary.stack ?? '',
  ];
}
