import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffMs, retryRetriable, type IoRetryOptions } from '../../../libs/broker/src/client/io-retry.js';
import { BrokerConnectionError, BrokerError, InvalidArgumentError, RequestTimeoutError } from '../../../libs/broker/src/errors/errors.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const fast: IoRetryOptions = { operation: 'test', initialBackoffMs: 1, maxBackoffMs: 2 };

/** A call failing with the given errors in turn, then resolving 'done'. */
function failing(...errors: unknown[]) {
  return vi.fn(async () => {
    const error = errors.shift();
    if (error !== undefined) throw error;
    return 'done';
  });
}

describe('retryRetriable', () => {
  it('returns the first result without retrying', async () => {
    const call = failing();
    await expect(retryRetriable(call, fast)).resolves.toBe('done');
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('repeats a call failing with retriable BrokerErrors until it succeeds, reporting each retry', async () => {
    const first = new BrokerConnectionError('reset');
    const second = new RequestTimeoutError('ack', 10);
    const call = failing(first, second);
    const onRetry = vi.fn();
    await expect(retryRetriable(call, { ...fast, onRetry })).resolves.toBe('done');
    expect(call).toHaveBeenCalledTimes(3);
    expect(onRetry.mock.calls).toEqual([[first, 1], [second, 2]]);
  });

  it('rethrows a non-retriable BrokerError at once', async () => {
    const error = new InvalidArgumentError('bad');
    const call = failing(error);
    const onRetry = vi.fn();
    await expect(retryRetriable(call, { ...fast, onRetry })).rejects.toBe(error);
    expect(call).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it('rethrows an error that is not a BrokerError at once, even one claiming to be retriable', async () => {
    const error = Object.assign(new Error('ERR script'), { retriable: true });
    const call = failing(error);
    await expect(retryRetriable(call, fast)).rejects.toBe(error);
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('gives up after maxAttempts, rethrowing the last error', async () => {
    const errors = [1, 2, 3, 4].map((n) => new BrokerError('CONNECTION', `try ${n}`, { retriable: true }));
    const call = failing(...errors);
    const onRetry = vi.fn();
    await expect(retryRetriable(call, { ...fast, maxAttempts: 3, onRetry })).rejects.toBe(errors[2]);
    expect(call).toHaveBeenCalledTimes(3);
    expect(onRetry).toHaveBeenCalledTimes(2);
  });

  it('makes no call when shouldStop holds from the start', async () => {
    const call = failing();
    await expect(retryRetriable(call, { ...fast, shouldStop: () => true })).resolves.toBeUndefined();
    expect(call).not.toHaveBeenCalled();
  });

  it('resolves undefined instead of retrying once shouldStop holds', async () => {
    let stop = false;
    const call = failing(new BrokerConnectionError('reset'), new BrokerConnectionError('reset'));
    const onRetry = vi.fn(() => (stop = true));
    await expect(retryRetriable(call, { ...fast, shouldStop: () => stop, onRetry })).resolves.toBeUndefined();
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('gives up at once, without another attempt, when the signal aborts', { timeout: 10_000 }, async () => {
    const controller = new AbortController();
    const call = failing(new BrokerConnectionError('reset'));
    const started = performance.now();
    const result = retryRetriable(call, { ...fast, initialBackoffMs: 60_000, maxBackoffMs: 60_000, signal: controller.signal, onRetry: () => controller.abort() });
    await expect(result).resolves.toBeUndefined();
    expect(call).toHaveBeenCalledTimes(1);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('ends a long wait early when the signal aborts during it', { timeout: 10_000 }, async () => {
    const controller = new AbortController();
    const call = failing(new BrokerConnectionError('reset'));
    const started = performance.now();
    const result = retryRetriable(call, { ...fast, initialBackoffMs: 60_000, maxBackoffMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(result).resolves.toBeUndefined();
    expect(call).toHaveBeenCalledTimes(1);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('backoffMs', () => {
  const pacing = { initialBackoffMs: 100, maxBackoffMs: 1_000 };

  it('doubles per attempt from initialBackoffMs', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect([1, 2, 3, 4].map((attempt) => backoffMs(pacing, attempt))).toEqual([100, 200, 400, 800]);
  });

  it('caps at maxBackoffMs', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(backoffMs(pacing, 5)).toBe(1_000);
    expect(backoffMs(pacing, 500)).toBe(1_000);
  });

  it('spreads by ±20 %', () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffMs(pacing, 2)).toBe(160);
    random.mockReturnValue(0.999_999);
    expect(backoffMs(pacing, 2)).toBe(240);
  });

  it('stays within ±20 % of the capped delay for any random value', () => {
    for (let i = 0; i < 200; i++) {
      vi.spyOn(Math, 'random').mockReturnValue(i / 200);
      const delay = backoffMs(pacing, 9);
      expect(delay).toBeGreaterThanOrEqual(800);
      expect(delay).toBeLessThanOrEqual(1_200);
    }
  });
});
