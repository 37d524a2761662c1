import { describe, expect, it } from 'vitest';
import { SCRIPT_STATUSES, statusOf } from '../../../libs/broker/src/redis/script-status.js';

describe('statusOf', () => {
  it('reads a status sent as a Buffer', () => {
    expect(statusOf([Buffer.from('fenced'), Buffer.from('0-1')])).toBe('fenced');
  });

  it('reads a status sent as a string', () => {
    expect(statusOf(['ok', 3])).toBe('ok');
  });

  it('knows every status of the vocabulary', () => {
    for (const status of SCRIPT_STATUSES) {
      expect(statusOf([status])).toBe(status);
      expect(statusOf([Buffer.from(status)])).toBe(status);
    }
  });

  it('throws on a status outside the vocabulary, quoting it', () => {
    expect(() => statusOf(['exploded'])).toThrow('unknown status "exploded"');
    expect(() => statusOf(['exploded'])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => statusOf([Buffer.from('OK')])).toThrow('"OK"');
  });

  it('throws on a reply that is not an array, or an empty one', () => {
    expect(() => statusOf('ok')).toThrow(/unknown status/);
    expect(() => statusOf(null)).toThrow(/unknown status/);
    expect(() => statusOf([])).toThrow(/unknown status/);
  });
});
