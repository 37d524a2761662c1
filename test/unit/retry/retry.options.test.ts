import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NonRetriableError } from '../../../libs/broker/src/errors/errors.js';
import { DEFAULT_BACKOFF, mergeRetryOptions, resolveRetryPolicy, type RetryOptions } from '../../../libs/broker/src/retry/retry.options.js';

describe('resolveRetryPolicy', () => {
  it('applies the defaults: 3 blocking attempts, 30 s handler timeout, exponential backoff, dead-lettering on', () => {
    const policy = resolveRetryPolicy();
    expect(policy).toMatchObject({ attempts: 3, mode: 'blocking', handlerTimeoutMs: 30_000, deadLetter: true, backoff: DEFAULT_BACKOFF });
    expect(policy.isRetriable(new Error('x'))).toBe(true);
  });

  it('freezes the policy and its backoff', () => {
    const policy = resolveRetryPolicy({ backoff: { initialMs: 10 } });
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.backoff)).toBe(true);
  });

  it('fills a partial backoff from the default backoff', () => {
    expect(resolveRetryPolicy({ backoff: { type: 'fixed', initialMs: 50 } }).backoff).toEqual({ ...DEFAULT_BACKOFF, type: 'fixed', initialMs: 50 });
  });

  it('takes undefined fields as absent', () => {
    const policy = resolveRetryPolicy({ attempts: undefined, mode: undefined, backoff: { maxMs: undefined, initialMs: 10 } }, { enabled: undefined });
    expect(policy).toMatchObject({ attempts: 3, mode: 'blocking', deadLetter: true, backoff: { initialMs: 10, maxMs: DEFAULT_BACKOFF.maxMs } });
  });

  it('turns dead-lettering off with deadLetter.enabled false', () => {
    expect(resolveRetryPolicy({}, { enabled: false }).deadLetter).toBe(false);
  });

  it('does not modify its input', () => {
    const retry: RetryOptions = { attempts: 5, backoff: { initialMs: 10 } };
    const copy = structuredClone(retry);
    resolveRetryPolicy(retry);
    expect(retry).toEqual(copy);
  });

  describe('isRetriable', () => {
    it('never retries a NonRetriableError, whatever the user check says', () => {
      expect(resolveRetryPolicy({ isRetriable: () => true }).isRetriable(new NonRetriableError('no'))).toBe(false);
    });

    it('follows the user check for other errors', () => {
      const policy = resolveRetryPolicy({ isRetriable: (error) => (error as Error).message !== 'fatal' });
      expect(policy.isRetriable(new Error('fatal'))).toBe(false);
      expect(policy.isRetriable(new Error('flaky'))).toBe(true);
    });

    it('retries when the user check returns nothing: only false refuses', () => {
      expect(resolveRetryPolicy({ isRetriable: (() => undefined) as never }).isRetriable(new Error('x'))).toBe(true);
    });
  });

  describe('validation errors name the field', () => {
    const cases: Array<[string, () => unknown, RegExp]> = [
      ['retry that is not an object', () => resolveRetryPolicy(null as never), /^retry must be an object/],
      ['deadLetter that is not an object', () => resolveRetryPolicy({}, 'on' as never), /^deadLetter must be an object/],
      ['attempts of 0', () => resolveRetryPolicy({ attempts: 0 }), /^retry\.attempts must be an integer from 1 to 1000; got 0/],
      ['fractional attempts', () => resolveRetryPolicy({ attempts: 2.5 }), /^retry\.attempts .*got 2\.5/],
      ['attempts as a string', () => resolveRetryPolicy({ attempts: '3' as never }), /^retry\.attempts .*got "3"/],
      ['handlerTimeoutMs of 0', () => resolveRetryPolicy({ handlerTimeoutMs: 0 }), /^retry\.handlerTimeoutMs /],
      ['an unknown mode', () => resolveRetryPolicy({ mode: 'eventually' as never }), /^retry\.mode must be 'blocking' or 'non-blocking'; got "eventually"/],
      ['isRetriable that is not a function', () => resolveRetryPolicy({ isRetriable: true as never }), /^retry\.isRetriable must be a function/],
      ['deadLetter.enabled that is not a boolean', () => resolveRetryPolicy({}, { enabled: 'yes' as never }), /^deadLetter\.enabled must be a boolean/],
      ['backoff that is not an object', () => resolveRetryPolicy({ backoff: null as never }), /^retry\.backoff must be an object/],
      ['an unknown backoff type', () => resolveRetryPolicy({ backoff: { type: 'linear' as never } }), /^retry\.backoff\.type /],
      ['a negative initialMs', () => resolveRetryPolicy({ backoff: { initialMs: -1 } }), /^retry\.backoff\.initialMs /],
      ['maxMs below initialMs', () => resolveRetryPolicy({ backoff: { initialMs: 500, maxMs: 499 } }), /^retry\.backoff\.maxMs must be an integer from 500 /],
      ['a multiplier below 1', () => resolveRetryPolicy({ backoff: { multiplier: 0.5 } }), /^retry\.backoff\.multiplier /],
      ['a NaN multiplier', () => resolveRetryPolicy({ backoff: { multiplier: Number.NaN } }), /^retry\.backoff\.multiplier /],
      ['a jitter above 1', () => resolveRetryPolicy({ backoff: { jitter: 1.5 } }), /^retry\.backoff\.jitter /],
      ['a negative jitter', () => resolveRetryPolicy({ backoff: { jitter: -0.1 } }), /^retry\.backoff\.jitter /],
    ];
    for (const [what, resolve, message] of cases) {
      it(`refuses ${what} with an InvalidArgumentError`, () => {
        expect(resolve).toThrow(InvalidArgumentError);
        expect(resolve).toThrow(message);
      });
    }

    it('accepts the edges: 1 attempt, initialMs 0, maxMs equal to initialMs, jitter 0 and 1', () => {
      expect(() => resolveRetryPolicy({ attempts: 1, backoff: { initialMs: 0, maxMs: 0, jitter: 0 } })).not.toThrow();
      expect(() => resolveRetryPolicy({ attempts: 1_000, backoff: { initialMs: 700, maxMs: 700, jitter: 1, multiplier: 1 } })).not.toThrow();
    });
  });
});

describe('mergeRetryOptions', () => {
  it('lets the override win field by field', () => {
    const isRetriable = () => false;
    expect(mergeRetryOptions({ attempts: 5, mode: 'blocking', handlerTimeoutMs: 100 }, { mode: 'non-blocking', isRetriable })).toEqual({
      attempts: 5, mode: 'non-blocking', handlerTimeoutMs: 100, isRetriable, backoff: {},
    });
  });

  it('merges the backoff field by field as well', () => {
    const merged = mergeRetryOptions({ backoff: { type: 'fixed', initialMs: 10, maxMs: 20 } }, { backoff: { initialMs: 15 } });
    expect(merged.backoff).toEqual({ type: 'fixed', initialMs: 15, maxMs: 20 });
  });

  it('keeps the base value where the override says undefined', () => {
    const merged = mergeRetryOptions({ attempts: 7, backoff: { initialMs: 10 } }, { attempts: undefined, backoff: { initialMs: undefined } });
    expect(merged).toMatchObject({ attempts: 7, backoff: { initialMs: 10 } });
  });

  it('returns whichever side is given when the other is undefined, and {} for neither', () => {
    const only = { attempts: 2 };
    expect(mergeRetryOptions(only, undefined)).toBe(only);
    expect(mergeRetryOptions(undefined, only)).toBe(only);
    expect(mergeRetryOptions(undefined, undefined)).toEqual({});
  });

  it('modifies neither input', () => {
    const base: RetryOptions = { attempts: 5, backoff: { initialMs: 10 } };
    const override: RetryOptions = { attempts: 6, backoff: { maxMs: 99 } };
    mergeRetryOptions(base, override);
    expect(base).toEqual({ attempts: 5, backoff: { initialMs: 10 } });
    expect(override).toEqual({ attempts: 6, backoff: { maxMs: 99 } });
  });

  it('produces options that resolve to the layered policy', () => {
    const policy = resolveRetryPolicy(mergeRetryOptions({ attempts: 4, backoff: { initialMs: 10, maxMs: 100 } }, { backoff: { maxMs: 50 } }));
    expect(policy).toMatchObject({ attempts: 4, backoff: { initialMs: 10, maxMs: 50 } });
  });
});
