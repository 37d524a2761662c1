import { describe, expect, inject, it } from 'vitest';
import { createBrook, uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { send } from './host.js';
import { startHostProcess, type HostProcess } from './host-process.js';

const LEASE_MS = 1_000;
const INTERVAL_MS = 100;

interface Status {
  hostId: string;
  isLeader: boolean;
  epoch: number | null;
  runs: number;
  removed: number;
}

async function status(host: HostProcess): Promise<Status> {
  return (await send<Status>(host.url, 'GET', '/api/v1/controller', { token: 'viewer' })).body;
}

describe('maintenance controller across broker hosts', () => {
  it('runs on exactly one of two hosts, and the other takes over within one lease time after SIGKILL', async () => {
    const prefix = uniquePrefix();
    const brook = createBrook({ prefix });
    const env = { REDIS_URL: inject('redisUrl'), BROOK_PREFIX: prefix, BROOK_CONTROLLER_LEASE_MS: String(LEASE_MS), BROOK_MAINTENANCE_INTERVAL_MS: String(INTERVAL_MS) };
    const hosts = await Promise.all([startHostProcess({ ...env, BROOK_HOST_ID: 'host-a' }), startHostProcess({ ...env, BROOK_HOST_ID: 'host-b' })]);

    // Messages a millisecond old by retention are expired at once: whoever leads must trim them.
    const topic = uniqueName('short-lived');
    await brook.admin().createTopic({ topic, partitions: 2, retention: { maxAgeMs: 1 } });
    const expired = () => Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: i, timestamp: 1_000 }));
    await brook.producer().send({ topic, messages: expired() });
    const trimmed = async () => (await brook.admin().describeTopic(topic)).partitions.every((p) => p.lowOffset === p.highOffset && p.highOffset > 0);
    await waitFor(trimmed, { message: 'the controller to enforce retention' });

    const [a, b] = await Promise.all(hosts.map(status));
    expect([a.isLeader, b.isLeader].sort()).toEqual([false, true]);
    const leader = a.isLeader ? hosts[0] : hosts[1];
    const follower = a.isLeader ? hosts[1] : hosts[0];
    const leaderRuns = (a.isLeader ? a : b).runs;
    // Several more passes on the leader, none on the follower.
    await waitFor(async () => (await status(leader)).runs >= leaderRuns + 5, { message: 'more passes on the leader' });
    expect(await status(follower)).toMatchObject({ isLeader: false, runs: 0, removed: 0 });
    expect((await status(leader)).removed).toBe(10);

    const killedAt = Date.now();
    leader.kill('SIGKILL');
    await waitFor(async () => (await status(follower)).isLeader, { intervalMs: 5, message: 'the follower to take over' });
    const takeoverMs = Date.now() - killedAt;
    // The term ends at most one lease time after its last renewal, which came before the kill.
    expect(takeoverMs).toBeLessThanOrEqual(LEASE_MS + 250);
    expect((await status(follower)).epoch).toBe(2);

    await brook.producer().send({ topic, messages: expired() });
    await waitFor(trimmed, { message: 'the new controller to enforce retention' });
    expect((await status(follower)).removed).toBe(10);
  });
});
