import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PartitionLease } from '../../../libs/broker/src/consumer/lease.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});

afterEach(() => {
  vi.useRealTimers();
});

/** A 10 s lease sent now: margin 1 s, so valid for 9 s on the local clock. */
function lease(onExpire = vi.fn(), leaseMs = 10_000, sentAt = performance.now()) {
  return { lease: new PartitionLease('m:1', leaseMs, sentAt, onExpire), onExpire, sentAt };
}

describe('PartitionLease', () => {
  it('runs on a faked monotonic clock in these tests', () => {
    const before = performance.now();
    vi.advanceTimersByTime(1_234);
    expect(performance.now() - before).toBe(1_234);
  });

  it('is valid until sentAt + leaseMs minus a margin of a tenth of the lease, at most a second', () => {
    const { lease: long } = lease(vi.fn(), 60_000);
    const { lease: short } = lease(vi.fn(), 2_000);
    expect(long.remainingMs).toBe(59_000);
    expect(short.remainingMs).toBe(1_800);
    vi.advanceTimersByTime(1_799);
    expect(short.valid).toBe(true);
    vi.advanceTimersByTime(1);
    expect(short.valid).toBe(false);
    expect(long.valid).toBe(true);
    long.end();
  });

  it('counts from when the acquisition was sent, not from when it was built', () => {
    vi.advanceTimersByTime(5_000);
    const { lease: late } = lease(vi.fn(), 10_000, performance.now() - 4_000);
    expect(late.remainingMs).toBe(5_000);
    late.end();
  });

  it('fires onExpire once, at the local deadline', () => {
    const { lease: l, onExpire } = lease();
    vi.advanceTimersByTime(8_999);
    expect(onExpire).not.toHaveBeenCalled();
    expect(l.valid).toBe(true);
    vi.advanceTimersByTime(1);
    expect(onExpire).toHaveBeenCalledTimes(1);
    expect(l.valid).toBe(false);
    expect(l.remainingMs).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(onExpire).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('extends the deadline with a successful renewal', () => {
    const { lease: l, onExpire } = lease();
    vi.advanceTimersByTime(6_000);
    l.renewed(performance.now());
    expect(l.remainingMs).toBe(9_000);
    vi.advanceTimersByTime(8_999);
    expect(onExpire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it('counts a renewal from when it was sent', () => {
    const { lease: l } = lease();
    vi.advanceTimersByTime(6_000);
    l.renewed(performance.now() - 2_000);
    expect(l.remainingMs).toBe(7_000);
    l.end();
  });

  it('does not shorten the lease when a renewal sent earlier arrives after a later one', () => {
    const { lease: l, onExpire } = lease();
    vi.advanceTimersByTime(4_000);
    const earlier = performance.now();
    vi.advanceTimersByTime(2_000);
    l.renewed(performance.now());
    l.renewed(earlier);
    expect(l.remainingMs).toBe(9_000);
    vi.advanceTimersByTime(8_999);
    expect(onExpire).not.toHaveBeenCalled();
    l.end();
  });

  it('never fires after end() and is no longer valid', () => {
    const { lease: l, onExpire } = lease();
    vi.advanceTimersByTime(3_000);
    l.end();
    expect(l.valid).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(onExpire).not.toHaveBeenCalled();
  });

  it('ignores a renewal after end() and arms no timer', () => {
    const { lease: l, onExpire } = lease();
    l.end();
    l.renewed(performance.now());
    expect(l.valid).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(onExpire).not.toHaveBeenCalled();
  });

  it('cannot be revived by a renewal after it expired', () => {
    const { lease: l, onExpire } = lease();
    vi.advanceTimersByTime(9_000);
    l.renewed(performance.now());
    expect(l.valid).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it('expires at once, on the next timer turn, when sent so long ago that the deadline passed', () => {
    const onExpire = vi.fn();
    vi.advanceTimersByTime(20_000);
    const l = new PartitionLease('m:1', 10_000, performance.now() - 15_000, onExpire);
    expect(l.valid).toBe(false);
    vi.advanceTimersByTime(0);
    expect(onExpire).toHaveBeenCalledTimes(1);
  });
});
