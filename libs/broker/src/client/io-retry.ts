import { setTimeout as delay } from 'node:timers/promises';
import { BrokerError } from '../errors/errors.js';

/** How {@link retryRetriable} paces its attempts. */
export interface IoRetryOptions {
  /** Names the work in reports. */
  operation: string;
  /** Delay before the second attempt; doubles per attempt (with ±20 % jitter) up to `maxBackoffMs`. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Checked before every attempt and after every wait: true gives up (resolving `undefined`). */
  shouldStop?: () => boolean;
  /** Once aborted, no further attempt is made (resolves `undefined`). */
  signal?: AbortSignal;
  /** Told about every failure that will be retried. */
  onRetry?: (error: BrokerError, attempt: number) => void;
  /** Gives up after this many attempts, rethrowing the last error. @defaultValue unlimited */
  maxAttempts?: number;
}

/**
 * The one retry loop for Redis I/O: repeats `call` while it fails with a retriable `BrokerError`
 * (connection trouble, a timeout — requests are safe to repeat), rethrows anything else at once.
 * Resolves `undefined` when `shouldStop` says the result is no longer wanted.
 */
export async function retryRetriable<T>(call: () => Promise<T>, options: IoRetryOptions): Promise<T | undefined> {
  for (let attempt = 1; ; attempt++) {
    if (options.shouldStop?.() || (attempt > 1 && options.signal?.aborted)) return undefined;
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof BrokerError) || !error.retriable) throw error;
      if (options.maxAttempts !== undefined && attempt >= options.maxAttempts) throw error;
      options.onRetry?.(error, attempt);
      await delay(backoffMs(options, attempt), undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
}

/** The wait after failed attempt `attempt` (1-based). */
export function backoffMs({ initialBackoffMs, maxBackoffMs }: Pick<IoRetryOptions, 'initialBackoffMs' | 'maxBackoffMs'>, attempt: number): number {
  const base = Math.min(initialBackoffMs * 2 ** (attempt - 1), maxBackoffMs);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
