import { describe, expect, it } from 'vitest';
import { deadLetterFields, summarizeError } from '../../../libs/broker/src/dead-letters/dead-letter-record.js';
import { NonRetriableError } from '../../../libs/broker/src/errors/errors.js';

describe('summarizeError', () => {
  it('describes an Error by its name, message and stack', () => {
    const error = new NonRetriableError('card declined');
    expect(summarizeError(error)).toEqual({ name: 'NonRetriableError', message: 'card declined', stack: error.stack });
  });

  it('leaves the stack out when asked', () => {
    expect(summarizeError(new Error('x'), { stack: false })).toEqual({ name: 'Error', message: 'x', stack: undefined });
  });

  it('cuts the message at 1 000 characters and the stack at 4 000', () => {
    const error = new Error('m'.repeat(5_000));
    error.stack = 's'.repeat(10_000);
    const summary = summarizeError(error);
    expect(summary.message).toBe('m'.repeat(1_000));
    expect(summary.stack).toBe('s'.repeat(4_000));
  });

  it('describes an error-like object by its fields, as strings', () => {
    expect(summarizeError({ name: 'RemoteError', message: 42, stack: 'at remote' })).toEqual({ name: 'RemoteError', message: '42', stack: 'at remote' });
  });

  it('drops a stack of an error-like object that is not a string', () => {
    expect(summarizeError({ name: 'E', message: 'm', stack: ['not', 'text'] }).stack).toBeUndefined();
  });

  it('bounds the message of an error-like object', () => {
    expect(summarizeError({ name: 'E', message: 'x'.repeat(2_000) }).message).toHaveLength(1_000);
  });

  it('describes thrown non-errors as NonError with their text', () => {
    expect(summarizeError('just a string')).toEqual({ name: 'NonError', message: 'just a string' });
    expect(summarizeError(42)).toEqual({ name: 'NonError', message: '42' });
    expect(summarizeError(undefined)).toEqual({ name: 'NonError', message: 'undefined' });
    expect(summarizeError(null)).toEqual({ name: 'NonError', message: 'null' });
    expect(summarizeError({ code: 7 })).toEqual({ name: 'NonError', message: '[object Object]' });
  });

  it('bounds the text of a thrown non-error', () => {
    expect(summarizeError('y'.repeat(3_000)).message).toHaveLength(1_000);
  });

  it('describes an object without a prototype instead of throwing', () => {
    // String(Object.create(null)) throws: "whatever a handler threw" must still be summarised.
    const bare = Object.assign(Object.create(null) as object, { detail: 'x' });
    expect(() => summarizeError(bare)).not.toThrow();
    expect(summarizeError(bare).name).toBe('NonError');
  });

  it('is JSON-safe', () => {
    const summary = summarizeError(new Error('quote " and \n newline'));
    expect(JSON.parse(JSON.stringify(summary))).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(JSON.parse(JSON.stringify(summary)).message).toBe('quote " and \n newline');
  });
});

describe('deadLetterFields', () => {
  const diagnosis = {
    topic: 'orders', partition: 3, offset: 41, group: 'billing', handler: 'charge', attempts: 3, reason: 'handler-error' as const,
  };

  it('lists every diagnostic as a field/value pair in a fixed order', () => {
    const error = new Error('boom');
    expect(deadLetterFields({ ...diagnosis, error })).toEqual([
      'topic', 'orders', 'partition', 3, 'offset', 41, 'group', 'billing', 'handler', 'charge', 'attempts', 3,
      'reason', 'handler-error', 'errorName', 'Error', 'errorMessage', 'boom', 'errorStack', error.stack,
    ]);
  });

  it('writes an empty stack for a thrown non-error', () => {
    const fields = deadLetterFields({ ...diagnosis, error: 'nope' });
    expect(fields.slice(-6)).toEqual(['errorName', 'NonError', 'errorMessage', 'nope', 'errorStack', '']);
  });

  it('uses only multi-character field names, so they never collide with the message fields', () => {
    const names = deadLetterFields({ ...diagnosis, error: new Error('x') }).filter((_, i) => i % 2 === 0);
    for (const name of names) expect(String(name).length).toBeGreaterThan(1);
  });
});
