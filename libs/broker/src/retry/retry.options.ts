import { assertInteger } from '../client/brook.options.js';
import { InvalidArgumentError, NonRetriableError } from '../errors/errors.js';
import type { BackoffPolicy } from './backoff.js';
import { definedOnly } from '../client/defined-only.js';

/** How failed messages are retried. */
export interface RetryOptions {
  /** Tries per message, the first included; then the message is dead-lettered. @defaultValue `3` */
  attempts?: number;
  /** Delay between tries. @defaultValue `{ type: 'exponential', initialMs: 1_000, multiplier: 2, maxMs: 30_000, jitter: 0.2 }` */
  backoff?: Partial<BackoffPolicy>;
  /**
   * `'blocking'`: retry in place; the partition waits, so order holds. `'non-blocking'`: park the
   * message in the group's delay queue and move on; it comes back when due, out of order.
   * @defaultValue `'blocking'`
   */
  mode?: 'blocking' | 'non-blocking';
  /** A handler still running after this long fails with reason `timeout` and its signal is aborted. @defaultValue `30_000` */
  handlerTimeoutMs?: number;
  /** Decides whether an error is worth retrying; `NonRetriableError` never is. @defaultValue every other error is */
  isRetriable?: (error: unknown) => boolean;
}

/** Where messages go when retries cannot help. */
export interface DeadLetterOptions {
  /** Move exhausted messages to the group's dead-letter topic. When off, they are retried forever, the backoff growing to its cap. @defaultValue `true` */
  enabled?: boolean;
}

export interface RetryPolicy {
  readonly attempts: number;
  readonly backoff: BackoffPolicy;
  readonly mode: 'blocking' | 'non-blocking';
  readonly handlerTimeoutMs: number;
  readonly isRetriable: (error: unknown) => boolean;
  readonly deadLetter: boolean;
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ type: 'exponential', initialMs: 1_000, multiplier: 2, maxMs: 30_000, jitter: 0.2 });

export const DEFAULT_RETRY = {
  attempts: 3,
  mode: 'blocking',
  handlerTimeoutMs: 30_000,
  isRetriable: () => true,
} as const satisfies Omit<RetryPolicy, 'backoff' | 'deadLetter'>;

/** Layers retry options: `override` wins field by field, `backoff` included. */
export function mergeRetryOptions(base: RetryOptions | undefined, override: RetryOptions | undefined): RetryOptions {
  if (override === undefined) return base ?? {};
  if (base === undefined) return override;
  return { ...base, ...definedOnly(override), backoff: { ...base.backoff, ...definedOnly(override.backoff ?? {}) } };
}

/** Validates retry and dead-letter options, applies defaults and freezes the result. */
export function resolveRetryPolicy(retry: RetryOptions = {}, deadLetter: DeadLetterOptions = {}): RetryPolicy {
  if (retry === null || typeof retry !== 'object') throw new InvalidArgumentError('retry must be an object like { attempts, backoff, mode }.');
  if (deadLetter === null || typeof deadLetter !== 'object') throw new InvalidArgumentError('deadLetter must be an object like { enabled }.');
  const merged = { ...DEFAULT_RETRY, ...definedOnly(retry) };
  assertInteger('retry.attempts', merged.attempts, 1, 1_000);
  assertInteger('retry.handlerTimeoutMs', merged.handlerTimeoutMs, 1, 86_400_000);
  if (merged.mode !== 'blocking' && merged.mode !== 'non-blocking') {
    throw new InvalidArgumentError(`retry.mode must be 'blocking' or 'non-blocking'; got ${JSON.stringify(merged.mode)}.`);
  }
  if (typeof merged.isRetriable !== 'function') throw new InvalidArgumentError('retry.isRetriable must be a function (error) => boolean.');
  const enabled = deadLetter.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new InvalidArgumentError('deadLetter.enabled must be a boolean.');
  const userCheck = merged.isRetriable;
  return Object.freeze({
    attempts: merged.attempts,
    mode: merged.mode,
    handlerTimeoutMs: merged.handlerTimeoutMs,
    isRetriable: (error: unknown) => !(error instanceof NonRetriableError) && userCheck(error) !== false,
    backoff: resolveBackoff(retry.backoff),
    deadLetter: enabled,
  });
}

function resolveBackoff(backoff: Partial<BackoffPolicy> | undefined): BackoffPolicy {
  if (backoff !== undefined && (backoff === null || typeof backoff !== 'object')) throw new InvalidArgumentError('retry.backoff must be an object like { type, initialMs }.');
  const resolved = { ...DEFAULT_BACKOFF, ...definedOnly(backoff ?? {}) };
  if (resolved.type !== 'exponential' && resolved.type !== 'fixed') throw new InvalidArgumentError("retry.backoff.type must be 'exponential' or 'fixed'.");
  assertInteger('retry.backoff.initialMs', resolved.initialMs, 0, 86_400_000);
  assertInteger('retry.backoff.maxMs', resolved.maxMs, resolved.initialMs, 86_400_000);
  if (typeof resolved.multiplier !== 'number' || !(resolved.multiplier >= 1)) throw new InvalidArgumentError('retry.backoff.multiplier must be a number ≥ 1.');
  if (typeof resolved.jitter !== 'number' || !(resolved.jitter >= 0 && resolved.jitter <= 1)) throw new InvalidArgumentError('retry.backoff.jitter must be between 0 and 1.');
  return Object.freeze(resolved);
}
