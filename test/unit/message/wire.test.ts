import { describe, expect, it } from 'vitest';
import { jsonCodec, type Codec } from '../../../libs/broker/src/codec/codec.js';
import { deadLetterFields } from '../../../libs/broker/src/dead-letters/dead-letter-record.js';
import { InvalidArgumentError } from '../../../libs/broker/src/errors/errors.js';
import { decodeValue, encodeMessage, readEntry, storedMessage, type EncodedMessage } from '../../../libs/broker/src/message/wire.js';

const buffers = (values: ReadonlyArray<string | number | Buffer>) => values.map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v))));
const names = (encoded: EncodedMessage) => encoded.fields.filter((_, i) => i % 2 === 0).map(String);

describe('encodeMessage', () => {
  it('writes encoding, key, headers and value, leaving message id and timestamp to the script', () => {
    const encoded = encodeMessage('orders', { key: 'c-1', value: { total: 5 }, headers: { trace: 't1' }, timestamp: 1_700_000_000_000 }, jsonCodec);
    expect(encoded.fields).toEqual(['e', 'json', 'k', 'c-1', 'h', '{"trace":"t1"}', 'v', '{"total":5}']);
    expect(names(encoded)).not.toContain('i');
    expect(names(encoded)).not.toContain('t');
  });

  it('records an explicit timestamp beside the fields', () => {
    expect(encodeMessage('t', { value: 'x', timestamp: 1_700_000_000_000 }, jsonCodec).timestamp).toBe(1_700_000_000_000);
    expect(encodeMessage('t', { value: 'x', timestamp: 0 }, jsonCodec).timestamp).toBe(0);
  });

  it('leaves the timestamp null without one, so the append time stamps it', () => {
    expect(encodeMessage('t', { value: 'x' }, jsonCodec).timestamp).toBeNull();
    expect(encodeMessage('t', { value: 'x', timestamp: null as never }, jsonCodec).timestamp).toBeNull();
  });

  it('writes keyless messages without a key field and with no key bytes', () => {
    const encoded = encodeMessage('t', { key: null, value: 'x' }, jsonCodec);
    expect(encoded.fields).toEqual(['e', 's', 'v', 'x']);
    expect(encoded.keyBytes).toBeNull();
  });

  it('gives the key’s bytes for partitioning', () => {
    expect(encodeMessage('t', { key: 'ключ', value: 'x' }, jsonCodec).keyBytes).toEqual(Buffer.from('ключ'));
    const raw = Buffer.from([1, 2, 3]);
    expect(encodeMessage('t', { key: raw, value: 'x' }, jsonCodec).keyBytes).toBe(raw);
  });

  it('refuses a lone surrogate in a string value or key, which UTF-8 cannot store, and keeps one inside a JSON value or a header', () => {
    const lone = 'a\ud800b';
    expect(() => encodeMessage('t', { value: lone }, jsonCodec)).toThrow(/value .*lone UTF-16 surrogate/);
    expect(() => encodeMessage('t', { key: lone, value: 1 }, jsonCodec)).toThrow(/key .*lone UTF-16 surrogate/);
    expect(() => encodeMessage('t', { value: 1, headers: { h: lone, [lone]: 'x' } }, jsonCodec)).not.toThrow();
    const inJson = encodeMessage('t', { value: { text: lone } }, jsonCodec);
    expect(JSON.parse(String(inJson.fields[inJson.fields.length - 1])).text).toBe(lone);
    expect(() => encodeMessage('t', { key: 'k\ud83d\ude00', value: 'ok \ud83d\ude00' }, jsonCodec)).not.toThrow();
  });

  it('leaves out empty headers', () => {
    expect(names(encodeMessage('t', { value: 'x', headers: {} }, jsonCodec))).toEqual(['e', 'v']);
  });

  it('stores strings as s, Buffers and Uint8Arrays as b, anything else through the codec', () => {
    expect(encodeMessage('t', { value: 'text' }, jsonCodec).fields.slice(0, 2)).toEqual(['e', 's']);
    expect(encodeMessage('t', { value: Buffer.from('x') }, jsonCodec).fields.slice(0, 2)).toEqual(['e', 'b']);
    const view = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
    const bytes = encodeMessage('t', { value: view }, jsonCodec);
    expect(bytes.fields).toEqual(['e', 'b', 'v', Buffer.from([8, 7])]);
    expect(encodeMessage('t', { value: null }, jsonCodec).fields).toEqual(['e', 'json', 'v', 'null']);
    const upper: Codec = { name: 'upper', encode: (v) => String(v).toUpperCase(), decode: (b) => b.toString() };
    expect(encodeMessage('t', { value: 42 }, upper).fields).toEqual(['e', 'upper', 'v', '42']);
  });

  it('counts the bytes of key, headers and value, in UTF-8, not the encoding tag', () => {
    const encoded = encodeMessage('t', { key: 'ü', value: 'ö', headers: { a: 'b' } }, jsonCodec);
    expect(encoded.sizeBytes).toBe(2 + Buffer.byteLength('{"a":"b"}') + 2);
  });

  const invalid: Array<[string, unknown, RegExp]> = [
    ['a message that is not an object', 'hello', /^Each message for 'orders' must be an object/],
    ['a missing value', { key: 'k' }, /has no value; send null for an empty value/],
    ['a numeric key', { key: 7, value: 'x' }, /key for 'orders' must be a string, Buffer or null; got number/],
    ['a negative timestamp', { value: 'x', timestamp: -1 }, /timestamp for 'orders' must be a non-negative integer of milliseconds; got -1/],
    ['a fractional timestamp', { value: 'x', timestamp: 1.5 }, /got 1\.5/],
    ['a Date as timestamp', { value: 'x', timestamp: new Date(0) }, /timestamp for 'orders' must be a non-negative integer/],
    ['headers as an array', { value: 'x', headers: ['a'] }, /headers for 'orders' must be an object of string values/],
    ['a header that is not a string', { value: 'x', headers: { retries: 3 } }, /Header 'retries' of a message for 'orders' must be a string; got number/],
  ];
  for (const [what, message, error] of invalid) {
    it(`refuses ${what} with an InvalidArgumentError naming the topic`, () => {
      expect(() => encodeMessage('orders', message as never, jsonCodec)).toThrow(InvalidArgumentError);
      expect(() => encodeMessage('orders', message as never, jsonCodec)).toThrow(error);
    });
  }
});

describe('readEntry and decodeValue', () => {
  it('read back what encodeMessage wrote, with the timestamp the script added', () => {
    const encoded = encodeMessage('t', { key: 'k', value: { a: [1, 2] }, headers: { h: 'v' } }, jsonCodec);
    const raw = readEntry(buffers(['i', 'p:0:0', 't', 1_700_000_000_123, ...encoded.fields]));
    expect(raw).toMatchObject({ timestamp: 1_700_000_000_123, encoding: 'json', key: 'k', headers: { h: 'v' } });
    expect(decodeValue(raw, jsonCodec)).toEqual({ a: [1, 2] });
  });

  it('refuses to decode a value written with another codec, naming both', () => {
    const raw = readEntry(buffers(['e', 'avro', 'v', 'x']));
    expect(() => decodeValue(raw, jsonCodec)).toThrow("The value was written with codec 'avro', but this consumer decodes 'json'");
  });
});

describe('storedMessage', () => {
  it('keeps e, k, h and v and the original timestamp; drops the old message id and the diagnostics', () => {
    const fields = buffers([
      'i', 'old-producer:2:9', 't', 1_700_000_000_000, 'e', 'json', 'k', 'c-1', 'h', '{"x":"y"}', 'v', '{"n":1}',
      ...deadLetterFields({ topic: 'orders', partition: 0, offset: 9, group: 'g', handler: 'h', attempts: 3, reason: 'handler-error', error: new Error('boom') }),
      'firstFailureAt', 1, 'lastFailureAt', 2,
    ]);
    const stored = storedMessage(fields);
    expect(stored.fields.map((f) => f.toString())).toEqual(['e', 'json', 'k', 'c-1', 'h', '{"x":"y"}', 'v', '{"n":1}']);
    expect(stored.timestamp).toBe(1_700_000_000_000);
    expect(stored.keyBytes).toEqual(Buffer.from('c-1'));
  });

  it('sizes the message as encodeMessage did, so limits apply alike on replay', () => {
    const encoded = encodeMessage('t', { key: 'ключ', value: { big: 'ü'.repeat(50) }, headers: { a: 'b' }, timestamp: 42 }, jsonCodec);
    const stored = storedMessage(buffers(['i', 'p:0:0', 't', 42, ...encoded.fields]));
    expect(stored.sizeBytes).toBe(encoded.sizeBytes);
    expect(stored.fields).toEqual(buffers(encoded.fields));
    expect(stored.keyBytes).toEqual(encoded.keyBytes);
    expect(stored.timestamp).toBe(42);
  });

  it('gives a keyless stored message no key bytes, and no timestamp when none was stored', () => {
    const stored = storedMessage(buffers(['e', 's', 'v', 'x']));
    expect(stored).toEqual({ fields: buffers(['e', 's', 'v', 'x']), sizeBytes: 1, timestamp: null, keyBytes: null });
  });
});
