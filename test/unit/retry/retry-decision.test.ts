import { describe, expect, it } from 'vitest';
import { BrokerConnectionError, HandlerTimeoutError, MessageValidationError, NonRetriableError } from '../../../libs/broker/src/errors/errors.js';
import { classifyFailure, decideAfterFailure, decideBeforeAttempt } from '../../../libs/broker/src/retry/retry-decision.js';
import { resolveRetryPolicy, type RetryPolicy } from '../../../libs/broker/src/retry/retry.options.js';

/** 3 attempts, blocking, dead-lettering on; backoff 100, 200, 400, … capped at 1 000 ms, no jitter. */
function policy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    attempts: 3,
    backoff: { type: 'exponential', initialMs: 100, multiplier: 2, maxMs: 1_000, jitter: 0 },
    mode: 'blocking',
    handlerTimeoutMs: 30_000,
    isRetriable: () => true,
    deadLetter: true,
    ...overrides,
  };
}

/** For decisions that must not compute a delay (dead-lettering). */
const noRandom = () => {
  throw new Error('a dead-letter decision computed a retry delay');
};
const half = () => 0.5;

describe('decideAfterFailure: retrying handler errors and timeouts', () => {
  it('retries a first handler error in place after the first backoff', () => {
    expect(decideAfterFailure(policy(), 0, 'handler-error', 'log', half)).toEqual({ kind: 'retry-in-place', delayMs: 100 });
  });

  it('doubles the backoff with each counted failure', () => {
    expect(decideAfterFailure(policy({ attempts: 10 }), 1, 'handler-error', 'log', half)).toEqual({ kind: 'retry-in-place', delayMs: 200 });
    expect(decideAfterFailure(policy({ attempts: 10 }), 2, 'handler-error', 'log', half)).toEqual({ kind: 'retry-in-place', delayMs: 400 });
  });

  it('retries a timeout like a handler error', () => {
    expect(decideAfterFailure(policy(), 1, 'timeout', 'log', half)).toEqual({ kind: 'retry-in-place', delayMs: 200 });
  });

  it('dead-letters a handler error on the last attempt, counting it', () => {
    expect(decideAfterFailure(policy(), 2, 'handler-error', 'log', noRandom)).toEqual({
      kind: 'dead-letter', reason: 'handler-error', attempts: 3, countsFailure: true,
    });
  });

  it('dead-letters a timeout on the last attempt with reason timeout', () => {
    expect(decideAfterFailure(policy(), 2, 'timeout', 'log', noRandom)).toEqual({ kind: 'dead-letter', reason: 'timeout', attempts: 3, countsFailure: true });
  });

  it('dead-letters after the single attempt of attempts: 1', () => {
    expect(decideAfterFailure(policy({ attempts: 1 }), 0, 'handler-error', 'log', noRandom)).toMatchObject({ kind: 'dead-letter', attempts: 1 });
  });

  it('spreads the delay with the injected random within the jitter', () => {
    const jittery = policy({ backoff: { type: 'exponential', initialMs: 100, multiplier: 2, maxMs: 1_000, jitter: 0.5 } });
    expect(decideAfterFailure(jittery, 0, 'handler-error', 'log', () => 0)).toEqual({ kind: 'retry-in-place', delayMs: 50 });
    expect(decideAfterFailure(jittery, 0, 'handler-error', 'log', () => 0.75)).toEqual({ kind: 'retry-in-place', delayMs: 125 });
  });
});

describe('decideAfterFailure: failures retrying cannot fix', () => {
  it('dead-letters a non-retriable error at its first attempt', () => {
    expect(decideAfterFailure(policy(), 0, 'non-retriable', 'log', noRandom)).toEqual({
      kind: 'dead-letter', reason: 'non-retriable', attempts: 1, countsFailure: true,
    });
  });

  it('dead-letters a failed validation at once with reason validation', () => {
    expect(decideAfterFailure(policy(), 0, 'validation', 'log', noRandom)).toEqual({ kind: 'dead-letter', reason: 'validation', attempts: 1, countsFailure: true });
  });

  it('dead-letters a non-retriable error after earlier handler errors with the total of attempts', () => {
    expect(decideAfterFailure(policy({ attempts: 5 }), 1, 'non-retriable', 'log', noRandom)).toMatchObject({ kind: 'dead-letter', attempts: 2 });
  });

  it('dead-letters an undecodable payload at once without counting an attempt', () => {
    expect(decideAfterFailure(policy(), 0, 'undecodable', 'log', noRandom)).toEqual({
      kind: 'dead-letter', reason: 'undecodable', attempts: 0, countsFailure: false,
    });
  });

  it('keeps the earlier failures as the attempts of an undecodable payload', () => {
    // The codec changed after two handler failures: the record still says two attempts.
    expect(decideAfterFailure(policy({ attempts: 5 }), 2, 'undecodable', 'log', noRandom)).toEqual({
      kind: 'dead-letter', reason: 'undecodable', attempts: 2, countsFailure: false,
    });
  });
});

describe('decideAfterFailure: where the message waits', () => {
  it('parks a failure in non-blocking mode so the partition moves on', () => {
    expect(decideAfterFailure(policy({ mode: 'non-blocking' }), 0, 'handler-error', 'log', half)).toEqual({ kind: 'park', delayMs: 100 });
  });

  it('parks a message from the delay queue again even in blocking mode', () => {
    expect(decideAfterFailure(policy(), 1, 'handler-error', 'delay', half)).toEqual({ kind: 'park', delayMs: 200 });
  });

  it('dead-letters a message from the delay queue once its attempts ran out', () => {
    expect(decideAfterFailure(policy({ mode: 'non-blocking' }), 2, 'timeout', 'delay', noRandom)).toMatchObject({ kind: 'dead-letter', reason: 'timeout', attempts: 3 });
  });
});

describe('decideAfterFailure without dead-lettering', () => {
  const forever = policy({ deadLetter: false });

  it('retries forever, the backoff growing to its cap', () => {
    const delays = [0, 1, 2, 3, 4, 5, 50, 5_000].map((failed) => decideAfterFailure(forever, failed, 'handler-error', 'log', half));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000].map((delayMs) => ({ kind: 'retry-in-place', delayMs })));
  });

  it('retries even a non-retriable error or a failed validation: there is nowhere else to put it', () => {
    expect(decideAfterFailure(forever, 0, 'non-retriable', 'log', half)).toEqual({ kind: 'retry-in-place', delayMs: 100 });
    expect(decideAfterFailure(forever, 4, 'validation', 'log', half)).toEqual({ kind: 'retry-in-place', delayMs: 1_000 });
  });

  it('retries an undecodable payload after the first backoff, counting no attempt', () => {
    expect(decideAfterFailure(forever, 0, 'undecodable', 'log', half)).toEqual({ kind: 'retry-in-place', delayMs: 100 });
  });

  it('parks instead in non-blocking mode', () => {
    expect(decideAfterFailure({ ...forever, mode: 'non-blocking' }, 7, 'handler-error', 'log', half)).toEqual({ kind: 'park', delayMs: 1_000 });
  });
});

describe('decideBeforeAttempt', () => {
  it('lets a message with attempts left run', () => {
    expect(decideBeforeAttempt(policy(), 0, undefined)).toBeUndefined();
    expect(decideBeforeAttempt(policy(), 2, { name: 'Error' })).toBeUndefined();
  });

  it('dead-letters a message whose attempts ran out before a crash, without counting another failure', () => {
    expect(decideBeforeAttempt(policy(), 3, { name: 'Error' })).toEqual({ kind: 'dead-letter', reason: 'handler-error', attempts: 3, countsFailure: false });
  });

  it('names the reason timeout when the recorded last failure was a handler timeout', () => {
    expect(decideBeforeAttempt(policy(), 3, { name: 'HandlerTimeoutError' })).toMatchObject({ reason: 'timeout' });
    expect(decideBeforeAttempt(policy(), 4, new HandlerTimeoutError(10))).toMatchObject({ reason: 'timeout', attempts: 4 });
  });

  it('names the reason handler-error when no last failure was recorded', () => {
    expect(decideBeforeAttempt(policy(), 3, undefined)).toMatchObject({ reason: 'handler-error' });
  });

  it('runs the message again without dead-lettering however many attempts failed', () => {
    expect(decideBeforeAttempt(policy({ deadLetter: false }), 300, { name: 'Error' })).toBeUndefined();
  });
});

describe('classifyFailure', () => {
  const defaults = resolveRetryPolicy();

  it('calls an ordinary error or a thrown non-Error a handler error', () => {
    expect(classifyFailure(new Error('boom'), defaults)).toBe('handler-error');
    expect(classifyFailure('a string', defaults)).toBe('handler-error');
    expect(classifyFailure(undefined, defaults)).toBe('handler-error');
    expect(classifyFailure(new BrokerConnectionError('down'), defaults)).toBe('handler-error');
  });

  it('calls a HandlerTimeoutError a timeout', () => {
    expect(classifyFailure(new HandlerTimeoutError(5), defaults)).toBe('timeout');
  });

  it('calls a NonRetriableError non-retriable', () => {
    expect(classifyFailure(new NonRetriableError('bad input'), defaults)).toBe('non-retriable');
  });

  it('calls a MessageValidationError validation, not merely non-retriable', () => {
    expect(classifyFailure(new MessageValidationError('schema'), defaults)).toBe('validation');
  });

  it('calls an error the policy refuses to retry non-retriable', () => {
    const picky = resolveRetryPolicy({ isRetriable: (error) => !(error instanceof RangeError) });
    expect(classifyFailure(new RangeError('out'), picky)).toBe('non-retriable');
    expect(classifyFailure(new TypeError('other'), picky)).toBe('handler-error');
  });

  it('calls a NonRetriableError non-retriable even when the user check would retry everything', () => {
    const eager = resolveRetryPolicy({ isRetriable: () => true });
    expect(classifyFailure(new NonRetriableError('no'), eager)).toBe('non-retriable');
  });
});
