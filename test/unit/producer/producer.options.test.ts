import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../libs/broker/src/errors/errors.js';
import { DEFAULT_PRODUCER_OPTIONS, resolveProducerOptions, type ProducerOptions } from '../../../libs/broker/src/producer/producer.options.js';

describe('resolveProducerOptions', () => {
  it('applies the defaults: acks leader, a random producer id, timestamps at most an hour ahead', () => {
    expect(resolveProducerOptions()).toEqual(DEFAULT_PRODUCER_OPTIONS);
    expect(resolveProducerOptions().timestampWindow).toEqual({ aheadMs: 3_600_000, behindMs: null });
  });

  it('freezes the result and its window and leaves the input alone', () => {
    const input: ProducerOptions = { acks: 'all', timestampWindow: { behindMs: 5_000 } };
    const resolved = resolveProducerOptions(input);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(Object.isFrozen(resolved.timestampWindow)).toBe(true);
    expect(input).toEqual({ acks: 'all', timestampWindow: { behindMs: 5_000 } });
  });

  it('takes undefined fields as absent', () => {
    expect(resolveProducerOptions({ acks: undefined, maxBatchBytes: undefined, producerId: undefined })).toMatchObject({
      acks: 'leader', maxBatchBytes: 1_048_576, producerId: null,
    });
  });

  it('refuses options that are not an object', () => {
    expect(() => resolveProducerOptions(null as never)).toThrow('producer() options must be an object.');
  });

  it('refuses an unknown acks level', () => {
    expect(() => resolveProducerOptions({ acks: 'some' as never })).toThrow(`acks must be 'none', 'leader' or 'all'; got "some".`);
  });

  describe('producerId', () => {
    it('accepts 1 to 100 of letters, digits, dot, underscore and dash', () => {
      for (const id of ['a', 'orders-svc_1.eu', 'x'.repeat(100)]) expect(resolveProducerOptions({ producerId: id }).producerId).toBe(id);
    });

    for (const id of ['', 'x'.repeat(101), 'has space', 'orders:1', 'ünï', 'a/b', 42, true]) {
      it(`refuses ${JSON.stringify(id)}, naming the field and the allowed characters`, () => {
        const resolve = () => resolveProducerOptions({ producerId: id as never });
        expect(resolve).toThrow(InvalidArgumentError);
        expect(resolve).toThrow(`producerId must be 1 to 100 of A-Z, a-z, 0-9, '.', '_', '-'; got ${JSON.stringify(id)}.`);
      });
    }
  });

  describe('timestampWindow', () => {
    it('keeps the default for the bound left out', () => {
      expect(resolveProducerOptions({ timestampWindow: { behindMs: 60_000 } }).timestampWindow).toEqual({ aheadMs: 3_600_000, behindMs: 60_000 });
      expect(resolveProducerOptions({ timestampWindow: { aheadMs: 0 } }).timestampWindow).toEqual({ aheadMs: 0, behindMs: null });
    });

    it('takes null as unlimited', () => {
      expect(resolveProducerOptions({ timestampWindow: { aheadMs: null, behindMs: null } }).timestampWindow).toEqual({ aheadMs: null, behindMs: null });
    });

    it('refuses a window that is not an object', () => {
      expect(() => resolveProducerOptions({ timestampWindow: null as never })).toThrow(/^timestampWindow must be an object/);
      expect(() => resolveProducerOptions({ timestampWindow: 1_000 as never })).toThrow(/^timestampWindow must be an object/);
    });

    it('refuses negative or fractional bounds, naming the bound', () => {
      expect(() => resolveProducerOptions({ timestampWindow: { aheadMs: -1 } })).toThrow(/^timestampWindow\.aheadMs must be an integer from 0 /);
      expect(() => resolveProducerOptions({ timestampWindow: { behindMs: 1.5 } })).toThrow(/^timestampWindow\.behindMs must be an integer from 0 /);
      expect(() => resolveProducerOptions({ timestampWindow: { behindMs: '1' as never } })).toThrow(/^timestampWindow\.behindMs /);
    });
  });

  describe('limits', () => {
    const invalid: Array<[keyof ProducerOptions, unknown]> = [
      ['minInSyncReplicas', 0],
      ['minInSyncReplicas', 101],
      ['ackTimeoutMs', 0],
      ['autoTopicPartitions', 0],
      ['autoTopicPartitions', 4_097],
      ['maxMessageBytes', 0],
      ['maxMessageBytes', 512 * 1_048_576 + 1],
      ['maxBatchMessages', 0],
      ['maxBatchMessages', 100_001],
      ['maxBatchBytes', 0],
      ['maxQueuedBytes', 0],
      ['maxQueuedBytes', 1.5],
      ['deliveryTimeoutMs', 0],
      ['deliveryTimeoutMs', 86_400_001],
    ];
    for (const [field, value] of invalid) {
      it(`refuses ${field} = ${JSON.stringify(value)}, naming the field`, () => {
        const resolve = () => resolveProducerOptions({ [field]: value });
        expect(resolve).toThrow(InvalidArgumentError);
        expect(resolve).toThrow(new RegExp(`^${field} must be an integer from \\d+ to \\d+; got ${JSON.stringify(value)}\\.`));
      });
    }

    it('accepts the largest values', () => {
      expect(() =>
        resolveProducerOptions({ minInSyncReplicas: 100, autoTopicPartitions: 4_096, maxMessageBytes: 512 * 1_048_576, maxBatchMessages: 100_000, deliveryTimeoutMs: 86_400_000 }),
      ).not.toThrow();
    });

    it('refuses allowAutoTopicCreation that is not a boolean', () => {
      expect(() => resolveProducerOptions({ allowAutoTopicCreation: 'yes' as never })).toThrow('allowAutoTopicCreation must be a boolean.');
    });

    it('refuses an invalid codec', () => {
      expect(() => resolveProducerOptions({ codec: {} as never })).toThrow(/^codec must be an object/);
    });
  });
});
