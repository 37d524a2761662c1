import { describe, expect, it } from 'vitest';
import { backoffDelay, type BackoffPolicy } from '../../../libs/broker/src/retry/backoff.js';

const exponential: BackoffPolicy = { type: 'exponential', initialMs: 100, multiplier: 3, maxMs: 5_000, jitter: 0 };
const fixed: BackoffPolicy = { type: 'fixed', initialMs: 250, multiplier: 3, maxMs: 5_000, jitter: 0 };
const middle = () => 0.5;

describe('backoffDelay', () => {
  it('waits initialMs before every retry with a fixed backoff, ignoring the multiplier', () => {
    expect([1, 2, 3, 10].map((retry) => backoffDelay(fixed, retry, middle))).toEqual([250, 250, 250, 250]);
  });

  it('multiplies the delay per retry with an exponential backoff', () => {
    expect([1, 2, 3, 4].map((retry) => backoffDelay(exponential, retry, middle))).toEqual([100, 300, 900, 2_700]);
  });

  it('caps the delay at maxMs', () => {
    expect(backoffDelay(exponential, 5, middle)).toBe(5_000);
    expect(backoffDelay(exponential, 60, middle)).toBe(5_000);
  });

  it('caps a fixed backoff whose initialMs exceeds maxMs', () => {
    expect(backoffDelay({ ...fixed, initialMs: 9_000 }, 1, middle)).toBe(5_000);
  });

  it('treats retry 0 like the first retry', () => {
    expect(backoffDelay(exponential, 0, middle)).toBe(100);
  });

  it('stays at the cap, a finite number, for a retry count far past any sane attempt limit', () => {
    expect(backoffDelay(exponential, 10_000, middle)).toBe(5_000);
  });

  it('stays 0 with initialMs 0 however many retries went before', () => {
    // multiplier ** (retry - 1) overflows to Infinity after ~1 000 retries; 0 × Infinity must not become NaN.
    const immediate: BackoffPolicy = { type: 'exponential', initialMs: 0, multiplier: 2, maxMs: 0, jitter: 0.2 };
    expect(backoffDelay(immediate, 1, middle)).toBe(0);
    expect(backoffDelay(immediate, 2_000, middle)).toBe(0);
  });

  describe('jitter', () => {
    const jittery: BackoffPolicy = { ...exponential, jitter: 0.2 };

    it('shortens the delay by the full jitter when random is 0', () => {
      expect(backoffDelay(jittery, 2, () => 0)).toBe(240);
    });

    it('lengthens the delay by nearly the full jitter as random approaches 1', () => {
      expect(backoffDelay(jittery, 2, () => 0.999_999)).toBe(360);
    });

    it('leaves the delay unchanged when random is in the middle', () => {
      expect(backoffDelay(jittery, 2, middle)).toBe(300);
    });

    it('spreads around the capped delay, not the uncapped one', () => {
      expect(backoffDelay(jittery, 30, () => 0)).toBe(4_000);
    });

    it('keeps every delay within ±jitter of the base and a whole number of milliseconds', () => {
      for (let i = 0; i < 1_000; i++) {
        const r = i / 1_000;
        const delay = backoffDelay({ ...exponential, initialMs: 333, jitter: 0.3 }, 1, () => r);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(333 * 0.7));
        expect(delay).toBeLessThanOrEqual(Math.ceil(333 * 1.3));
      }
    });

    it('never goes below 0 with a jitter of 1', () => {
      expect(backoffDelay({ ...exponential, jitter: 1 }, 1, () => 0)).toBe(0);
    });
  });
});
