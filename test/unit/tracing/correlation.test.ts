import { describe, expect, it } from 'vitest';
import { correlationIdOf } from '@brook/broker';

describe('correlationIdOf', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('prefers the brook-correlation-id header', () => {
    expect(correlationIdOf({ 'brook-correlation-id': 'req-1', traceparent })).toBe('req-1');
  });

  it('falls back to the trace id of the traceparent header', () => {
    expect(correlationIdOf({ traceparent })).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('is undefined without either, or with a malformed or all-zero traceparent', () => {
    expect(correlationIdOf({})).toBeUndefined();
    expect(correlationIdOf({ traceparent: 'garbage' })).toBeUndefined();
    expect(correlationIdOf({ traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' })).toBeUndefined();
  });
});
