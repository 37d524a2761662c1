import { describe, expect, it } from 'vitest';
import { acquireLease, membership, registerGroup, releaseLease, renewLeases, resetOffset } from '../../../../libs/broker/src/redis/specs/ownership.js';

const b = (s: string) => Buffer.from(s);

describe('acquireLease.parse', () => {
  it('reads the group’s position and the log end on ok', () => {
    expect(acquireLease.parse(['ok', 17, 20])).toEqual({ status: 'ok', lastDeliveredSeq: 17, logEnd: 20 });
  });

  it('reads how long the other holder keeps the lease, and who it is', () => {
    expect(acquireLease.parse(['held', 4_200, 'member-b:3'])).toEqual({ status: 'held', msUntilExpiry: 4_200, holder: 'member-b:3' });
    expect(acquireLease.parse([b('held'), b('10'), b('member-c:1')])).toEqual({ status: 'held', msUntilExpiry: 10, holder: 'member-c:1' });
  });

  it('reads gone', () => {
    expect(acquireLease.parse(['gone'])).toEqual({ status: 'gone' });
  });
});

describe('renewLeases.parse', () => {
  it('reads one result per partition, -1 meaning nothing due', () => {
    expect(renewLeases.parse([1, -1, 0, 500, 1, 0])).toEqual([
      { renewed: true, msUntilNextDue: Infinity },
      { renewed: false, msUntilNextDue: 500 },
      { renewed: true, msUntilNextDue: 0 },
    ]);
  });

  it('reads an empty reply as no partitions', () => {
    expect(renewLeases.parse([])).toEqual([]);
  });

  it('sends the lease time, then the tokens in partition order', () => {
    const input = { group: 'g', leaseMs: 10_000, partitions: [{ topic: 't', partition: 1, token: 'm:4' }, { topic: 't', partition: 0, token: 'm:5' }] };
    expect(renewLeases.args(input)).toEqual([10_000, 'm:4', 'm:5']);
  });
});

describe('releaseLease.parse and resetOffset.parse', () => {
  it('reads release as ok, anything else as stale', () => {
    expect(releaseLease.parse(['ok'])).toEqual({ status: 'ok' });
    expect(releaseLease.parse(['stale'])).toEqual({ status: 'stale' });
    expect(releaseLease.parse(['fenced'])).toEqual({ status: 'stale' });
  });

  it('reads each reset status', () => {
    for (const status of ['ok', 'held', 'fenced', 'gone'] as const) expect(resetOffset.parse([status])).toEqual({ status });
  });
});

describe('membership.parse', () => {
  it('reads the generation, the owned partitions, the topic origins, the next expiry and the member count', () => {
    const reply = membership.parse([7, '["orders:0","orders:2"]', ['orders', 4, 'audit', 1], -1, 2]);
    expect(reply).toEqual({
      generation: 7,
      owned: ['orders:0', 'orders:2'],
      origins: new Map([['orders', 4], ['audit', 1]]),
      msUntilNextExpiry: -1,
      members: 2,
    });
  });

  it('reads an owned list that is not a JSON array (Lua encodes an empty table as {}) as nothing owned', () => {
    expect(membership.parse([1, '{}', [], 300, 1]).owned).toEqual([]);
  });
});

describe('registerGroup.parse', () => {
  it('reads whether the record changed', () => {
    expect(registerGroup.parse(['ok', 1])).toEqual({ status: 'ok', changed: true });
    expect(registerGroup.parse(['ok', 0])).toEqual({ status: 'ok', changed: false });
  });

  it('reads the kind of a group registered as the other kind', () => {
    expect(registerGroup.parse(['kind', 'share'])).toEqual({ status: 'kind', existing: 'share' });
    expect(registerGroup.parse([b('kind'), b('exclusive')])).toEqual({ status: 'kind', existing: 'exclusive' });
  });

  it('sends the kind before the topics', () => {
    expect(registerGroup.args({ group: 'mailers', kind: 'share', topics: ['a', 'b'] })).toEqual(['mailers', 'share', 'a', 'b']);
  });
});
