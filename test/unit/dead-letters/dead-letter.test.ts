import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../../../libs/broker/src/codec/codec.js';
import { parseDeadLetter, parseDeadLetterId } from '../../../libs/broker/src/dead-letters/dead-letter.js';
import { deadLetterFields } from '../../../libs/broker/src/dead-letters/dead-letter-record.js';
import { InvalidArgumentError, NonRetriableError } from '../../../libs/broker/src/errors/errors.js';
import { encodeMessage } from '../../../libs/broker/src/message/wire.js';
import type { Message } from '../../../libs/broker/src/message/message.js';

const buffers = (values: ReadonlyArray<string | number | Buffer>) => values.map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v))));

/**
 * A dead-letter stream entry as dead-letter.lua writes it: the original message's fields (the
 * produce script's 'i' and 't' first), the worker's diagnostics, then the script's failure times.
 */
function deadLetterEntry(message: Message, diagnostics: Array<string | number>, times = { first: 1_700_000_000_100, last: 1_700_000_000_900 }): Buffer[] {
  const original = ['i', 'producer-1:0:17', 't', 1_700_000_000_000, ...encodeMessage('orders', message, jsonCodec).fields];
  return buffers([...original, ...diagnostics, 'firstFailureAt', times.first, 'lastFailureAt', times.last]);
}

const diagnosis = { topic: 'orders', partition: 2, offset: 41, group: 'billing', handler: 'charge', attempts: 3, reason: 'timeout' as const };

describe('parseDeadLetter', () => {
  it('reads back what deadLetterFields wrote and the original message', () => {
    const error = new NonRetriableError('card declined');
    const fields = deadLetterEntry({ key: 'customer-7', value: { amount: 12 }, headers: { trace: 'abc' } }, deadLetterFields({ ...diagnosis, error }));
    expect(parseDeadLetter('orders', 'billing', 2, '1700000001000-0', fields)).toEqual({
      id: '2-1700000001000-0',
      topic: 'orders',
      group: 'billing',
      partition: 2,
      offset: 41,
      handler: 'charge',
      attempts: 3,
      reason: 'timeout',
      error: { name: 'NonRetriableError', message: 'card declined', stack: error.stack },
      firstFailureAt: 1_700_000_000_100,
      lastFailureAt: 1_700_000_000_900,
      replays: 0,
      parked: false,
      deadLetteredAt: 1_700_000_001_000,
      message: { key: 'customer-7', value: { amount: 12 }, encoding: 'json', headers: { trace: 'abc' }, timestamp: 1_700_000_000_000 },
    });
  });

  it('reads a keyless message without headers as key null and headers {}', () => {
    const fields = deadLetterEntry({ value: 'plain text' }, deadLetterFields({ ...diagnosis, error: new Error('x') }));
    expect(parseDeadLetter('orders', 'billing', 2, '5-0', fields).message).toEqual({ key: null, value: 'plain text', encoding: 's', headers: {}, timestamp: 1_700_000_000_000 });
  });

  it('gives byte values back as the bytes', () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe]);
    const fields = deadLetterEntry({ value: bytes }, deadLetterFields({ ...diagnosis, error: new Error('x') }));
    const { message } = parseDeadLetter('orders', 'billing', 2, '5-0', fields);
    expect(message.encoding).toBe('b');
    expect(message.value).toEqual(bytes);
  });

  it('shows an undecodable JSON payload as its raw bytes instead of failing', () => {
    const fields = buffers(['i', 'p:0:1', 't', 5, 'e', 'json', 'v', '{not json', ...deadLetterFields({ ...diagnosis, reason: 'undecodable', attempts: 0, error: new SyntaxError('bad') })]);
    const letter = parseDeadLetter('orders', 'billing', 2, '5-0', fields);
    expect(letter.message.value).toEqual(Buffer.from('{not json'));
    expect(letter).toMatchObject({ reason: 'undecodable', attempts: 0, error: { name: 'SyntaxError', message: 'bad' } });
  });

  it('reads an empty stack as null', () => {
    const fields = deadLetterEntry({ value: 1 }, deadLetterFields({ ...diagnosis, error: 'thrown string' }));
    expect(parseDeadLetter('orders', 'billing', 2, '5-0', fields).error).toEqual({ name: 'NonError', message: 'thrown string', stack: null });
  });

  it('keeps diagnostic text in UTF-8', () => {
    const fields = deadLetterEntry({ value: 1 }, deadLetterFields({ ...diagnosis, handler: 'zahlung-prüfen', error: new Error('Überweisung fehlgeschlagen ✗') }));
    expect(parseDeadLetter('orders', 'billing', 2, '5-0', fields)).toMatchObject({ handler: 'zahlung-prüfen', error: { message: 'Überweisung fehlgeschlagen ✗' } });
  });

  it('falls back to neutral values for a record without diagnostics', () => {
    const letter = parseDeadLetter('orders', 'billing', 0, '9-1', buffers(['e', 's', 'v', 'x']));
    expect(letter).toMatchObject({ offset: -1, handler: '', attempts: 0, reason: 'handler-error', error: { name: 'Error', message: '', stack: null }, firstFailureAt: 0, lastFailureAt: 0, deadLetteredAt: 9 });
  });
});

describe('parseDeadLetterId', () => {
  it('splits an id into its partition and dead-letter stream ID', () => {
    expect(parseDeadLetterId('3-1764000000000-0')).toEqual({ partition: 3, streamId: '1764000000000-0' });
    expect(parseDeadLetterId('0-1-12')).toEqual({ partition: 0, streamId: '1-12' });
  });

  it('is the inverse of the id parseDeadLetter gives', () => {
    const letter = parseDeadLetter('orders', 'billing', 17, '1764000000000-4', buffers(['e', 's', 'v', 'x']));
    expect(parseDeadLetterId(letter.id)).toEqual({ partition: 17, streamId: '1764000000000-4' });
  });

  for (const bad of ['', '3', '3-', '3-1764000000000', 'a-1-0', '3-1-0-0', ' 3-1-0', '123456-1-0', 3, null, undefined, { partition: 3 }]) {
    it(`refuses ${JSON.stringify(bad) ?? 'undefined'} with an error quoting it and showing the expected form`, () => {
      expect(() => parseDeadLetterId(bad)).toThrow(InvalidArgumentError);
      expect(() => parseDeadLetterId(bad)).toThrow(`Invalid dead-letter id ${JSON.stringify(bad)}: expected '<partition>-<ms>-<seq>'`);
    });
  }
});
