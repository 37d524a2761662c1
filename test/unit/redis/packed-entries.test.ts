import { describe, expect, it } from 'vitest';
import { readEntry } from '../../../libs/broker/src/message/wire.js';
import { readLogEntry, seqOf, unpackEntries } from '../../../libs/broker/src/redis/packed-entries.js';
import { pack } from './pack.js';

const texts = (fields: Buffer[]) => fields.map((f) => f.toString('latin1'));

describe('unpackEntries', () => {
  it('returns nothing for an empty string', () => {
    expect(unpackEntries(Buffer.alloc(0))).toEqual([]);
  });

  it('reads each entry’s ID, offset (sequence − 1) and fields in order', () => {
    const entries = unpackEntries(pack([
      ['0-1', ['i', 'p:0:0', 't', '1700000000000', 'e', 's', 'v', 'first']],
      ['0-2', ['i', 'p:0:1', 't', '1700000000001', 'e', 's', 'v', 'second']],
    ]));
    expect(entries.map(({ id, offset }) => ({ id, offset }))).toEqual([{ id: '0-1', offset: 0 }, { id: '0-2', offset: 1 }]);
    expect(texts(entries[1].fields)).toEqual(['i', 'p:0:1', 't', '1700000000001', 'e', 's', 'v', 'second']);
  });

  it('reads offsets past 32 bits', () => {
    expect(unpackEntries(pack([['0-50000000001', ['e', 's']]]))[0].offset).toBe(50_000_000_000);
  });

  it('takes the message id from field i', () => {
    expect(unpackEntries(pack([['0-1', ['i', 'orders-svc:3:42', 'e', 's', 'v', 'x']]]))[0].messageId).toBe('orders-svc:3:42');
  });

  it('finds the message id wherever field i stands', () => {
    expect(unpackEntries(pack([['0-1', ['e', 's', 'v', 'x', 'i', 'late:0:1']]]))[0].messageId).toBe('late:0:1');
  });

  it('gives an empty message id to an entry without field i', () => {
    expect(unpackEntries(pack([['0-1', ['e', 's', 'v', 'x']]]))[0].messageId).toBe('');
  });

  it('does not take a value "i", or a longer name starting with i, for the message id field', () => {
    const [entry] = unpackEntries(pack([['0-1', ['v', 'i', 'id', 'not-it', 'k', 'key']]]));
    expect(entry.messageId).toBe('');
  });

  it('keeps binary values byte for byte', () => {
    const value = Buffer.from([0x00, 0xff, 0x80, 0x0a, 0x00]);
    const [entry] = unpackEntries(pack([['0-1', ['e', 'b', 'v', value]]]));
    expect(entry.fields[3]).toEqual(value);
  });

  it('keeps values that are a single byte as their own bytes', () => {
    const [entry] = unpackEntries(pack([['0-1', ['e', 's', 'k', 'x', 'v', 'y']]]));
    expect(texts(entry.fields)).toEqual(['e', 's', 'k', 'x', 'v', 'y']);
  });

  it('counts the bytes of the ID, names and values, without the length prefixes', () => {
    const [entry] = unpackEntries(pack([['0-12', ['e', 'json', 'v', '{"a":1}']]]));
    expect(entry.bytes).toBe('0-12'.length + 1 + 4 + 1 + 7);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const [entry] = unpackEntries(pack([['0-1', ['v', 'ünïcødé']]]));
    expect(entry.bytes).toBe(3 + 1 + Buffer.byteLength('ünïcødé'));
  });

  it('reads an entry whose fields are gone as zero fields and goes on with the next', () => {
    const entries = unpackEntries(pack([['0-4', []], ['0-5', ['i', 'p:0:5', 'v', 'x']]]));
    const [gone] = entries;
    expect({ id: gone.id, offset: gone.offset, messageId: gone.messageId, fields: gone.fields, bytes: gone.bytes, failure: gone.failure }).toEqual({
      id: '0-4',
      offset: 3,
      messageId: '',
      fields: [],
      bytes: 3,
      failure: undefined,
    });
    expect(entries[1]).toMatchObject({ id: '0-5', offset: 4, messageId: 'p:0:5' });
  });

  it('attaches failure records by index, null or false meaning none', () => {
    const record = { attempts: 2, firstFailureAt: 100, lastFailureAt: 200, error: { name: 'Error', message: 'boom' }, m: 'p:0:2' };
    const entries = unpackEntries(
      pack([['0-1', ['v', 'a']], ['0-2', ['v', 'b']], ['0-3', ['v', 'c']]]),
      [null, Buffer.from(JSON.stringify(record)), false],
    );
    expect(entries.map((e) => e.failure)).toEqual([undefined, record, undefined]);
  });

  it('leaves failure empty when the list is shorter than the entries', () => {
    const entries = unpackEntries(pack([['0-1', ['v', 'a']], ['0-2', ['v', 'b']]]), [Buffer.from('{"attempts":1,"firstFailureAt":5}')]);
    expect(entries.map((e) => e.failure?.attempts)).toEqual([1, undefined]);
  });
});

describe('seqOf', () => {
  it('reads the sequence part of a stream ID', () => {
    expect(seqOf('0-42')).toBe(42);
    expect(seqOf('1700000000000-7')).toBe(7);
  });
});

describe('readLogEntry', () => {
  it('reads timestamp, encoding, key, headers and value straight from the packed reply, as readEntry does from the fields', () => {
    const value = Buffer.from([0x7b, 0x00, 0xff, 0x7d]);
    const [entry] = unpackEntries(pack([['0-9', ['i', 'p:1:8', 't', '1700000000123', 'e', 'json', 'k', 'kéy', 'h', '{"trace":"t1"}', 'v', value]]]));
    const direct = readLogEntry(entry);
    expect(direct).toEqual({ timestamp: 1_700_000_000_123, encoding: 'json', key: 'kéy', headers: { trace: 't1' }, value });
    expect(direct).toEqual(readEntry(entry.fields));
  });

  it('reads other encodings, a missing key, and unknown or multi-letter fields without taking them', () => {
    const [entry] = unpackEntries(pack([['0-1', ['e', 'avro.v1', 'xv', 'ignored', 't', '99999999999999999', 'v', 'x']]]));
    expect(readLogEntry(entry)).toEqual({ timestamp: 99_999_999_999_999_999, encoding: 'avro.v1', key: null, headers: {}, value: Buffer.from('x') });
  });

  it('reads an entry whose fields are gone as an empty value', () => {
    const [entry] = unpackEntries(pack([['0-4', []]]));
    expect(readLogEntry(entry)).toEqual({ timestamp: 0, encoding: '', key: null, headers: {}, value: Buffer.alloc(0) });
  });
});
