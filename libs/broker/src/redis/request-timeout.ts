import { RequestTimeoutError } from '../errors/errors.js';

/**
 * Rejects with {@link RequestTimeoutError} when `request` has not settled after `timeoutMs`. The
 * request itself is not cancelled (Redis may still run it), which is why every request Brook sends
 * is safe to repeat or to arrive late.
 */
export function withTimeout<T>(request: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RequestTimeoutError(operation, timeoutMs)), timeoutMs);
  });
  request.catch(() => undefined);
  return Promise.race([request, timeout]).finally(() => clearTimeout(timer));
}
