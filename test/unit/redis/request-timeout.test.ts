import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestTimeoutError } from '../../../libs/broker/src/errors/errors.js';
import { withTimeout } from '../../../libs/broker/src/redis/request-timeout.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});

afterEach(() => {
  vi.useRealTimers();
});

/** A promise settled by hand. */
function pending<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('withTimeout', () => {
  it('resolves with the request’s value and clears its timer', async () => {
    const request = pending<string>();
    const result = withTimeout(request.promise, 1_000, 'read offsets');
    request.resolve('value');
    await expect(result).resolves.toBe('value');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes the request’s own rejection through and clears its timer', async () => {
    const request = pending<string>();
    const failure = new Error('ERR wrong type');
    const result = withTimeout(request.promise, 1_000, 'read offsets');
    request.reject(failure);
    await expect(result).rejects.toBe(failure);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with a retriable RequestTimeoutError naming the operation once timeoutMs passed', async () => {
    const request = pending<string>();
    const result = withTimeout(request.promise, 1_000, 'acknowledge messages of partition 3');
    const settled = result.then(() => 'resolved', (error: unknown) => error);
    await vi.advanceTimersByTimeAsync(999);
    let early: unknown = 'pending';
    void settled.then((value) => (early = value));
    await Promise.resolve();
    expect(early).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    const error = await settled;
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ operation: 'acknowledge messages of partition 3', timeoutMs: 1_000, retriable: true, code: 'TIMEOUT' });
    expect((error as Error).message).toMatch(/^Redis did not answer the request to acknowledge messages of partition 3 within 1000 ms/);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('swallows a rejection of the request that arrives after the timeout', async () => {
    const request = pending<string>();
    const outcome = withTimeout(request.promise, 10, 'fetch').catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10);
    expect(await outcome).toBeInstanceOf(RequestTimeoutError);
    // An unhandled rejection here would fail the test run.
    request.reject(new Error('connection closed'));
    await Promise.resolve();
  });
});
