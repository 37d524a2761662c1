import { describe, expect, it } from 'vitest';
import { ack, ackDelayed, claim, deadLetter, fetch, recordFailure, scheduleRetry, takeDue } from '../../../../libs/broker/src/redis/specs/transitions.js';
import { unpackEntries } from '../../../../libs/broker/src/redis/packed-entries.js';
import { pack } from '../pack.js';

// Replies as ioredis gives them: bulk strings as Buffers for `buffers: true` scripts, as strings
// otherwise; integers as numbers; a Lua false as null.
const b = (s: string) => Buffer.from(s);
const owned = { topic: 'orders', partition: 3, group: 'billing', token: 'm:1' };

describe('fetch.parse', () => {
  it('gives each partition’s status and the packed entries of the ok ones, in order', () => {
    const packed = pack([['0-1', ['i', 'p:0:0', 'v', 'x']]]);
    const replies = fetch.parse([[b('ok'), packed], [b('fenced')], [b('gone')]]);
    expect(replies.map((r) => r.status)).toEqual(['ok', 'fenced', 'gone']);
    const first = replies[0];
    expect(first.status === 'ok' && unpackEntries(first.packed)[0].messageId).toBe('p:0:0');
  });

  it('throws on a status fetch does not know', () => {
    expect(() => fetch.parse([[b('exploded')]])).toThrow(/exploded/);
  });
});

describe('claim.parse', () => {
  it('reads the cursor, packed entries, IDs removed by retention and the failure records', () => {
    const record = b('{"attempts":1,"firstFailureAt":5}');
    const reply = claim.parse([b('ok'), b('0-17'), b(''), [b('0-3'), b('0-4')], [record, null]]);
    expect(reply).toEqual({ status: 'ok', cursor: '0-17', packed: b(''), deletedIds: ['0-3', '0-4'], failures: [record, null] });
  });

  it('reads a reply with no deleted IDs or failures as empty lists', () => {
    expect(claim.parse([b('ok'), b('0-0'), b(''), [], []])).toMatchObject({ deletedIds: [], failures: [] });
  });

  it('reads fenced and gone', () => {
    expect(claim.parse([b('fenced')])).toEqual({ status: 'fenced' });
    expect(claim.parse([b('gone')])).toEqual({ status: 'gone' });
  });
});

describe('ack.parse', () => {
  it('reads the count acknowledged and the stale IDs', () => {
    expect(ack.parse(['ok', 2, ['0-9']])).toEqual({ status: 'ok', acknowledged: 2, stale: ['0-9'] });
  });

  it('reads fenced', () => {
    expect(ack.parse(['fenced'])).toEqual({ status: 'fenced' });
  });

  it('sends the stream IDs with the highest first, and only its message id to vouch for the batch', () => {
    const messages = [{ id: '0-1', messageId: 'p:0:0' }, { id: '0-10', messageId: 'p:0:9' }, { id: '0-2', messageId: '' }];
    expect(ack.args({ ...owned, messages })).toEqual(['billing', 'm:1', 3, 1, '0-10', '0-1', '0-2', 'p:0:9']);
  });

  it('sends every message id when asked to verify each one', () => {
    const messages = [{ id: '0-1', messageId: 'p:0:0' }, { id: '0-10', messageId: 'p:0:9' }];
    expect(ack.args({ ...owned, messages, verifyEach: true })).toEqual(['billing', 'm:1', 2, 2, '0-10', '0-1', 'p:0:9', 'p:0:0']);
  });

  it("reads 'unverified' when the highest message did not vouch for the batch", () => {
    expect(ack.parse(['unverified'])).toEqual({ status: 'unverified' });
  });
});

describe('recordFailure.parse', () => {
  it('reads the failed attempts recorded so far', () => {
    expect(recordFailure.parse(['ok', 3])).toEqual({ status: 'ok', attempts: 3 });
  });

  it('reads fenced and stale', () => {
    expect(recordFailure.parse(['fenced'])).toEqual({ status: 'fenced' });
    expect(recordFailure.parse(['stale'])).toEqual({ status: 'stale' });
  });
});

describe('scheduleRetry', () => {
  it('parses the count parked and the stale IDs', () => {
    expect(scheduleRetry.parse(['ok', 1, ['0-5', '0-6']])).toEqual({ status: 'ok', parked: 1, stale: ['0-5', '0-6'] });
    expect(scheduleRetry.parse(['fenced'])).toEqual({ status: 'fenced' });
  });

  it('sends the fields of log messages only: delay-queue messages are stored already', () => {
    const fields = [b('v'), b('x')];
    const common = { attempt: 1, delayMs: 100, error: '{}', fields };
    const args = scheduleRetry.args({
      ...owned,
      messages: [{ id: '0-1', messageId: 'a', source: 'log', ...common }, { id: '0-2', messageId: 'b', source: 'delay', ...common }],
    });
    expect(args).toEqual(['billing', 'm:1', 2, '0-1', 'a', 'log', 1, 100, '{}', 2, ...fields, '0-2', 'b', 'delay', 1, 100, '{}', 0]);
  });
});

describe('takeDue.parse', () => {
  it('reads the packed entries, failure records and the time until the next due message', () => {
    const packed = pack([['0-2', ['v', 'x']]]);
    expect(takeDue.parse([b('ok'), packed, [null], 250])).toEqual({ status: 'ok', packed, failures: [null], msUntilNextDue: 250 });
  });

  it('reads -1 as nothing more due: Infinity', () => {
    expect(takeDue.parse([b('ok'), b(''), [], -1])).toMatchObject({ msUntilNextDue: Infinity });
  });

  it('reads the time sent as a bulk string too', () => {
    expect(takeDue.parse([b('ok'), b(''), [], b('40')])).toMatchObject({ msUntilNextDue: 40 });
  });

  it('reads fenced', () => {
    expect(takeDue.parse([b('fenced')])).toEqual({ status: 'fenced' });
  });
});

describe('ackDelayed.parse', () => {
  it('reads the count removed and the stale IDs', () => {
    expect(ackDelayed.parse(['ok', 0, ['0-7']])).toEqual({ status: 'ok', removed: 0, stale: ['0-7'] });
    expect(ackDelayed.parse(['fenced'])).toEqual({ status: 'fenced' });
  });
});

describe('deadLetter', () => {
  it('parses the dead letter’s ID for ok and for a stale repeat', () => {
    expect(deadLetter.parse(['ok', '1700000000000-0'])).toEqual({ status: 'ok', deadLetterId: '1700000000000-0' });
    expect(deadLetter.parse(['stale', ''])).toEqual({ status: 'stale', deadLetterId: '' });
    expect(deadLetter.parse(['fenced'])).toEqual({ status: 'fenced' });
  });

  it('sends the diagnostics count, the diagnostics, then the original fields', () => {
    const args = deadLetter.args({
      ...owned, id: '0-4', messageId: 'p:0:3', source: 'log', failed: true, diagnostics: ['topic', 'orders', 'attempts', 3], fields: [b('v'), b('x')],
    });
    expect(args).toEqual(['billing', 'm:1', '0-4', 'p:0:3', 'log', '1', 4, 'topic', 'orders', 'attempts', 3, b('v'), b('x')]);
  });

  it('sends failed as "0" when the step counts no attempt', () => {
    const args = deadLetter.args({ ...owned, id: '0-4', messageId: '', source: 'delay', failed: false, diagnostics: [], fields: [] });
    expect(args[5]).toBe('0');
  });
});
