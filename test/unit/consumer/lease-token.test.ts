import { describe, expect, it } from 'vitest';
import { leaseToken, memberOfToken } from '../../../libs/broker/src/consumer/lease-token.js';

describe('lease tokens', () => {
  it('joins the member id and the acquisition counter', () => {
    expect(leaseToken('member-a', 7)).toBe('member-a:7');
  });

  it('gives distinct tokens for two acquisitions of one member', () => {
    expect(leaseToken('m', 1)).not.toBe(leaseToken('m', 2));
  });

  it('reads the member id back from a token', () => {
    expect(memberOfToken(leaseToken('member-a', 7))).toBe('member-a');
  });

  it('reads back a member id that itself contains colons', () => {
    expect(memberOfToken(leaseToken('host:1234:abc', 12))).toBe('host:1234:abc');
  });

  it('takes a string without a counter as the member id', () => {
    expect(memberOfToken('legacy-owner')).toBe('legacy-owner');
  });
});
