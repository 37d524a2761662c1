import { describe, expect, it } from 'vitest';
import type { Codec } from '../../../libs/broker/src/codec/codec.js';
import { DEFAULT_CONSUMER_OPTIONS, resolveConsumerOptions, type ConsumerOptions } from '../../../libs/broker/src/consumer/consumer.options.js';
import { InvalidArgumentError, InvalidNameError } from '../../../libs/broker/src/errors/errors.js';

describe('resolveConsumerOptions', () => {
  it('applies the defaults around the group', () => {
    expect(resolveConsumerOptions({ group: 'billing' })).toEqual({ ...DEFAULT_CONSUMER_OPTIONS, group: 'billing' });
  });

  it('freezes the result and leaves the input alone', () => {
    const input: ConsumerOptions = { group: 'billing', maxBatchSize: 10 };
    const resolved = resolveConsumerOptions(input);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(input).toEqual({ group: 'billing', maxBatchSize: 10 });
  });

  it('takes undefined fields as absent', () => {
    expect(resolveConsumerOptions({ group: 'g', sessionTimeoutMs: undefined, codec: undefined })).toMatchObject({
      sessionTimeoutMs: DEFAULT_CONSUMER_OPTIONS.sessionTimeoutMs, codec: DEFAULT_CONSUMER_OPTIONS.codec,
    });
  });

  it('refuses missing options with an example of the call', () => {
    expect(() => resolveConsumerOptions(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => resolveConsumerOptions(undefined as never)).toThrow("brook.consumer({ group: 'billing' })");
  });

  it('refuses a missing or invalid group name', () => {
    expect(() => resolveConsumerOptions({} as never)).toThrow(InvalidNameError);
    expect(() => resolveConsumerOptions({ group: 'has space' })).toThrow(/Invalid group name "has space"/);
    expect(() => resolveConsumerOptions({ group: '__internal' })).toThrow(/reserved for Brook/);
  });

  it('accepts a heartbeat of exactly a third of the session timeout', () => {
    expect(resolveConsumerOptions({ group: 'g', sessionTimeoutMs: 3_000, heartbeatIntervalMs: 1_000 }).heartbeatIntervalMs).toBe(1_000);
  });

  it('refuses a heartbeat longer than a third of the session timeout, naming the bound', () => {
    expect(() => resolveConsumerOptions({ group: 'g', sessionTimeoutMs: 3_000, heartbeatIntervalMs: 1_001 })).toThrow(
      'heartbeatIntervalMs must be an integer from 10 to 1000; got 1001.',
    );
  });

  it('checks the default heartbeat against a short session timeout', () => {
    expect(() => resolveConsumerOptions({ group: 'g', sessionTimeoutMs: 1_000 })).toThrow(/^heartbeatIntervalMs must be an integer from 10 to 333/);
  });

  const invalid: Array<[keyof ConsumerOptions, unknown]> = [
    ['sessionTimeoutMs', 99],
    ['sessionTimeoutMs', 3_600_001],
    ['heartbeatIntervalMs', 9],
    ['maxBatchSize', 0],
    ['maxBatchSize', 100_001],
    ['maxBatchSize', 1.5],
    ['maxBytes', 0],
    ['maxBytesPerPartition', 0],
    ['maxBytesPerPartition', 1_073_741_825],
    ['maxWaitTimeMs', 0],
    ['maxWaitTimeMs', 600_001],
    ['pollIntervalMs', 0],
    ['pollIntervalMs', '100'],
  ];
  for (const [field, value] of invalid) {
    it(`refuses ${field} = ${JSON.stringify(value)}, naming the field`, () => {
      const resolve = () => resolveConsumerOptions({ group: 'g', [field]: value });
      expect(resolve).toThrow(InvalidArgumentError);
      expect(resolve).toThrow(new RegExp(`^${field} must be an integer from \\d+ to \\d+; got ${JSON.stringify(value)}\\.`));
    });
  }

  it('refuses a codec without encode/decode, and one named like a raw encoding', () => {
    expect(() => resolveConsumerOptions({ group: 'g', codec: { name: 'x' } as never })).toThrow(/^codec must be an object with a name/);
    const named = (name: string): Codec => ({ name, encode: String, decode: (b) => b });
    expect(() => resolveConsumerOptions({ group: 'g', codec: named('s') })).toThrow(/Invalid codec name "s"/);
    expect(resolveConsumerOptions({ group: 'g', codec: named('avro') }).codec.name).toBe('avro');
  });
});
