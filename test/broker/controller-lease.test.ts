import { describe, expect, inject, it } from 'vitest';
import { InvalidArgumentError, type Brook, type ControllerLease } from '@brook/broker';
import { createBrook, rawRedis, uniquePrefix, waitFor } from '../support/brook.js';
import { startLeaseProcess } from '../support/leases.js';

const LEASE_MS = 600;

function candidates(count: number, prefix = uniquePrefix(), leaseMs = LEASE_MS): { brooks: Brook[]; leases: ControllerLease[]; prefix: string } {
  const brooks = Array.from({ length: count }, () => createBrook({ prefix }));
  return { brooks, leases: brooks.map((brook, i) => brook.controllerLease({ leaseMs, holderId: `host-${i}` })), prefix };
}

/** Work records a lease process pushed, oldest first. */
async function records(key: string): Promise<Array<{ holder: string; epoch: number; at: number }>> {
  return (await rawRedis().lrange(key, 0, -1)).map((json) => JSON.parse(json));
}

describe('controller lease', () => {
  it('elects exactly one of several candidates, and every other one sees who leads', async () => {
    const { leases } = candidates(3);
    await Promise.all(leases.map((lease) => lease.start()));
    const leaders = leases.filter((lease) => lease.isLeader);
    expect(leaders).toHaveLength(1);
    const [leader] = leaders;
    expect(leader.epoch).toBe(1);
    expect(leader.signal.aborted).toBe(false);
    for (const other of leases.filter((lease) => lease !== leader)) {
      expect(other.epoch).toBeNull();
      expect(other.signal.aborted).toBe(true);
      expect(other.leader).toEqual({ holderId: leader.holderId, epoch: 1 });
    }
  });

  it('keeps the term and its epoch while the leader renews it', async () => {
    const { leases } = candidates(2);
    await leases[0].start();
    await leases[1].start();
    const revoked: unknown[] = [];
    leases[0].on('revoked', (event) => revoked.push(event));
    // Watch three lease times: leadership must never flicker.
    const flickers: number[] = [];
    const watchUntil = Date.now() + LEASE_MS * 3;
    await waitFor(
      () => {
        if (!leases[0].isLeader || leases[1].isLeader) flickers.push(Date.now());
        return Date.now() > watchUntil;
      },
      { timeoutMs: LEASE_MS * 4 },
    );
    expect(flickers).toEqual([]);
    expect(leases[0].epoch).toBe(1);
    expect(leases[1].isLeader).toBe(false);
    expect(await leases[0].confirm()).toBe(true);
    expect(revoked).toEqual([]);
  });

  it('hands the lease over within one renewal interval when the leader closes, with a higher epoch and an aborted signal', async () => {
    const { leases } = candidates(2, uniquePrefix(), 3_000);
    await leases[0].start();
    await leases[1].start();
    const signal = leases[0].signal;
    const events: unknown[] = [];
    leases[0].on('revoked', (event) => events.push(event));
    leases[1].on('elected', (event) => events.push(event));

    const closedAt = Date.now();
    await leases[0].close();
    await waitFor(() => leases[1].isLeader, { message: 'the second candidate to lead' });
    // The renewal interval (a third of the lease), not the lease time: the first one resigned.
    expect(Date.now() - closedAt).toBeLessThan(1_500);
    expect(events).toEqual([
      { epoch: 1, reason: 'closed' },
      { epoch: 2 },
    ]);
    expect(signal.aborted).toBe(true);
    expect(leases[0].isLeader).toBe(false);
    expect(await leases[0].confirm()).toBe(false);
  });

  it('lets another candidate take over within one lease time after the leader is killed', async () => {
    const prefix = uniquePrefix();
    const recordsKey = `${prefix}:records`;
    const redisUrl = inject('redisUrl');
    const leader = await startLeaseProcess({ redisUrl, prefix, holder: 'doomed', leaseMs: LEASE_MS, records: recordsKey });
    expect(leader.events).toContainEqual({ type: 'ready', isLeader: true });
    const [follower] = candidates(1, prefix).leases;
    await follower.start();
    expect(follower.isLeader).toBe(false);
    expect(follower.leader?.holderId).toBe('doomed');

    let electedAt = 0;
    follower.on('elected', () => (electedAt = Date.now()));
    const killedAt = Date.now();
    leader.signal('SIGKILL');
    await waitFor(() => electedAt > 0, { message: 'the follower to take over' });
    // The term ends at most one lease time after its last renewal, which came before the kill.
    expect(electedAt - killedAt).toBeLessThanOrEqual(LEASE_MS + 250);
    expect(follower.epoch).toBe(2);
  });

  it('stops a paused leader from working once its term ran out, and never lets two leaders overlap', async () => {
    const prefix = uniquePrefix();
    const recordsKey = `${prefix}:records`;
    const paused = await startLeaseProcess({ redisUrl: inject('redisUrl'), prefix, holder: 'paused', leaseMs: LEASE_MS, records: recordsKey });
    const [successor] = candidates(1, prefix).leases;
    await successor.start();
    await waitFor(async () => (await records(recordsKey)).length > 3, { message: 'the first leader to work' });

    let electedAt = 0;
    successor.on('elected', () => (electedAt = Date.now()));
    paused.signal('SIGSTOP');
    await waitFor(() => electedAt > 0, { message: 'the successor to take over' });
    const resumedAt = Date.now();
    paused.signal('SIGCONT');
    await waitFor(() => paused.events.some((event) => event.type === 'revoked'), { message: 'the paused leader to learn it lost the lease' });

    expect(paused.events.find((event) => event.type === 'revoked')).toMatchObject({ epoch: 1, reason: 'expired' });
    // Stays a follower while the successor renews.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    expect(paused.events.filter((event) => event.type === 'elected')).toHaveLength(1);
    expect(successor.isLeader).toBe(true);
    const work = await records(recordsKey);
    expect(work.length).toBeGreaterThan(3);
    expect(work.every((record) => record.holder === 'paused' && record.epoch === 1)).toBe(true);
    expect(Math.max(...work.map((record) => record.at))).toBeLessThan(Math.min(electedAt, resumedAt));
  });

  it('starts a new term with a higher epoch when a paused leader wakes up and nobody took over', async () => {
    const prefix = uniquePrefix();
    const alone = await startLeaseProcess({ redisUrl: inject('redisUrl'), prefix, holder: 'alone', leaseMs: LEASE_MS, records: `${prefix}:records` });
    alone.signal('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 2));
    alone.signal('SIGCONT');
    await waitFor(() => alone.events.filter((event) => event.type === 'elected').length === 2, { message: 'a second term' });
    expect(alone.events.filter((event) => event.type !== 'ready').map(({ type, epoch }) => ({ type, epoch }))).toEqual([
      { type: 'elected', epoch: 1 },
      { type: 'revoked', epoch: 1 },
      { type: 'elected', epoch: 2 },
    ]);
  });

  it('refuses invalid options, naming the rule', () => {
    const brook = createBrook();
    expect(() => brook.controllerLease({ leaseMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => brook.controllerLease({ leaseMs: 900, renewIntervalMs: 301 })).toThrow(/renewIntervalMs must be an integer from 10 to 300/);
    expect(() => brook.controllerLease({ holderId: 'has space' })).toThrow(/holderId/);
    expect(() => brook.controllerLease(null as never)).toThrow(/options must be an object/);
  });
});
