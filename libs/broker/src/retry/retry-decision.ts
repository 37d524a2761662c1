import type { DeadLetterReason } from '../dead-letters/dead-letter-record.js';
import { HandlerTimeoutError, MessageValidationError } from '../errors/errors.js';
import { backoffDelay } from './backoff.js';
import type { RetryPolicy } from './retry.options.js';

/** Why one attempt failed; the same words a dead letter uses. */
export type FailureReason = DeadLetterReason;

/** Where the message waits for its next attempt. */
export type MessageOrigin = 'log' | 'delay';

/** What to do with a message after a failed attempt (or before one, when its attempts ran out). */
export type RetryDecision =
  /** Move it to the dead-letter topic; `attempts` is what the record says, `countsFailure` whether this step counts a failed attempt. */
  | { kind: 'dead-letter'; reason: DeadLetterReason; attempts: number; countsFailure: boolean }
  /** Keep it where it is (its partition or key waits) and run it again after `delayMs`. */
  | { kind: 'retry-in-place'; delayMs: number }
  /** Park it in the delay queue until `delayMs` from now; the partition moves on. */
  | { kind: 'park'; delayMs: number };

/** The dead-letter branch of a {@link RetryDecision}. */
export type DeadLetterDecision = Extract<RetryDecision, { kind: 'dead-letter' }>;

/** Names the reason of a failed attempt from what the handler threw. */
export function classifyFailure(error: unknown, policy: RetryPolicy): FailureReason {
  if (error instanceof HandlerTimeoutError) return 'timeout';
  if (error instanceof MessageValidationError) return 'validation';
  if (!policy.isRetriable(error)) return 'non-retriable';
  return 'handler-error';
}

/**
 * Before an attempt: a message whose attempts already ran out (a crash or a takeover interrupted
 * its dead-lettering) goes to the dead-letter topic without running again.
 */
export function decideBeforeAttempt(policy: RetryPolicy, failedAttempts: number, lastError: { name?: string } | undefined): DeadLetterDecision | undefined {
  if (failedAttempts < policy.attempts || !policy.deadLetter) return undefined;
  const reason: DeadLetterReason = lastError?.name === 'HandlerTimeoutError' ? 'timeout' : 'handler-error';
  return { kind: 'dead-letter', reason, attempts: failedAttempts, countsFailure: false };
}

/**
 * After a failed attempt. `failedAttempts` counts the failures before this one. Undecodable
 * payloads never reached the handler, so they count no attempt; non-retriable errors, failed
 * validation and undecodable payloads are dead-lettered at once; other failures until the
 * attempts run out. Without dead-lettering a message is retried forever, the backoff growing to
 * its cap. Messages from the delay queue always go back to it: they are out of order already.
 */
export function decideAfterFailure(
  policy: RetryPolicy,
  failedAttempts: number,
  reason: FailureReason,
  origin: MessageOrigin,
  random: () => number = Math.random,
): RetryDecision {
  const failures = reason === 'undecodable' ? failedAttempts : failedAttempts + 1;
  const terminal = reason !== 'handler-error' && reason !== 'timeout';
  if ((terminal || failures >= policy.attempts) && policy.deadLetter) {
    return { kind: 'dead-letter', reason, attempts: failures, countsFailure: reason !== 'undecodable' };
  }
  const delayMs = backoffDelay(policy.backoff, Math.max(1, failures), random);
  return policy.mode === 'non-blocking' || origin === 'delay' ? { kind: 'park', delayMs } : { kind: 'retry-in-place', delayMs };
}
