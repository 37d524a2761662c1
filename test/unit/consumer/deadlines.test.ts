import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../../libs/broker/src/consumer/deadlines.js';

describe('Deadlines (handler timeouts watched by one timer)', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('expires an unsettled deadline once its time passed, and only then', () => {
    const deadlines = new Deadlines(100);
    const expired = vi.fn();
    deadlines.watch(expired);
    vi.advanceTimersByTime(99);
    expect(expired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(expired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1_000);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('never expires a deadline settled in time', () => {
    const deadlines = new Deadlines(100);
    const expired = vi.fn();
    deadlines.settle(deadlines.watch(expired));
    vi.advanceTimersByTime(500);
    expect(expired).not.toHaveBeenCalled();
  });

  it('expires each deadline at its own time when later ones were set while the first ran, whatever settles out of order', () => {
    const deadlines = new Deadlines(100);
    const calls: string[] = [];
    const a = deadlines.watch(() => calls.push('a'));
    vi.advanceTimersByTime(30);
    deadlines.watch(() => calls.push('b'));
    vi.advanceTimersByTime(30);
    const c = deadlines.watch(() => calls.push('c'));
    deadlines.watch(() => calls.push('d'));
    deadlines.settle(c);
    vi.advanceTimersByTime(40);
    expect(calls).toEqual(['a']);
    deadlines.settle(a);
    vi.advanceTimersByTime(30);
    expect(calls).toEqual(['a', 'b']);
    vi.advanceTimersByTime(30);
    expect(calls).toEqual(['a', 'b', 'd']);
  });

  it('keeps no timer once every deadline settled', () => {
    const deadlines = new Deadlines(100);
    for (let i = 0; i < 10_000; i++) deadlines.settle(deadlines.watch(() => undefined));
    vi.advanceTimersByTime(100);
    expect(vi.getTimerCount()).toBe(0);
  });
});
