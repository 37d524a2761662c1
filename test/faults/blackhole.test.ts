import { partitionForKey } from '@brook/broker';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { RedisServer } from '../support/redis-server.js';
import { check, printSummary } from './support/checker.js';
import { HistoryRecorder, RedisHistory, type ProducedRecord, type RunRecord } from './support/history.js';
import { startFaultMember, type FaultMemberEvent } from './support/members.js';
import { ownedPartitions } from './support/scenario-members.js';
import { readLogs, Workload, type WorkloadValue } from './support/workload.js';

const PARTITIONS = 3;
const SESSION_MS = 6_000;

type LostEvent = Extract<FaultMemberEvent, { type: 'lost' }>;

const servers: RedisServer[] = [];
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** A key the producer puts on `partition`. */
function keyOn(partition: number, base: string): string {
  for (let i = 0; ; i++) if (partitionForKey(Buffer.from(`${base}-${i}`), PARTITIONS) === partition) return `${base}-${i}`;
}

describe('a member black-holed while its handler runs', () => {
  it('aborts its handler at the lease deadline, its partition moves after the session timeout with no overlap, and it rejoins after the partition heals: lost 0', async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const proxy = await FaultProxy.start({ port: server.port });
    proxies.push(proxy);
    const brook = createBrook({ redis: server.url });
    const topic = uniqueName('orders');
    const group = 'billing';
    await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    const history = new HistoryRecorder();
    const records = `${brook.options.prefix}:runs`;
    const settings = { recordUrl: inject('redisUrl'), records, prefix: brook.options.prefix, topic, group, sessionMs: SESSION_MS };
    const cut = await startFaultMember('cut', { ...settings, redisUrl: proxy.url });
    const others = await Promise.all([startFaultMember('b', { ...settings, redisUrl: server.url }), startFaultMember('c', { ...settings, redisUrl: server.url })]);
    const members = [cut, ...others];
    await waitFor(() => members.every((member) => ownedPartitions(member).size === 1), { message: 'one partition per member', timeoutMs: 15_000 });
    const [cutPartition] = ownedPartitions(cut);
    const workload = new Workload(brook, topic, history, { keys: 6 });
    const finished = async () => (await brook.admin().describeGroup({ group, topic })).partitions.every((p) => p.lag === 0 && p.pending === 0);
    const runs = async () => (await new RedisHistory(rawRedis(), records).read()).filter((e): e is RunRecord => e.kind === 'run');

    await workload.produce(30, 'before-fault');
    await waitFor(finished, { message: 'the first messages to be handled' });

    // A handler of the member that is about to be cut off runs longer than its lease can last (and
    // as long again where it is redelivered).
    const held = (v: WorkloadValue): WorkloadValue => ({ ...v, key: keyOn(cutPartition, 'held'), holdMs: SESSION_MS + 2_000 });
    await workload.produce(1, 'during-fault', held);
    await waitFor(() => cut.events.some((e) => e.type === 'holding'), { message: 'the held handler to start' });
    proxy.blackhole();
    const blackholedAt = Date.now();
    await workload.produce(20, 'during-fault');

    const expired = await waitFor(() => cut.events.find((e): e is LostEvent => e.type === 'lost' && e.partition === cutPartition), {
      message: 'the cut-off member to give its partition up',
      timeoutMs: SESSION_MS + 5_000,
    });
    await waitFor(finished, { message: 'the other members to take the partition over and finish it', timeoutMs: SESSION_MS * 2 + 10_000 });
    const movedAfterMs = Math.min(...(await runs()).filter((r) => r.partition === cutPartition && r.member !== cut.memberId && r.startedAt > blackholedAt).map((r) => r.startedAt)) - blackholedAt;

    proxy.restore();
    const restoredAt = Date.now();
    await waitFor(() => ownedPartitions(cut).size > 0, { message: 'the member to rejoin and take a partition again', timeoutMs: 20_000 });
    await workload.produce(30, 'after-fault');
    await waitFor(finished, { message: 'the messages after the partition healed to be handled', timeoutMs: 20_000 });
    await Promise.all(members.map((member) => member.stop()));

    const allRuns = await runs();
    history.recordAll(allRuns);
    history.recordAll(await readLogs(server.url, brook.options.prefix, topic, PARTITIONS));
    // The partition lasted for the cut-off member until its lease ran out: what it ran until then was in flight.
    const result = check(history.entries, { mustSurvive: (p) => p.acknowledged, ordering: 'partition', inFlightAt: [blackholedAt, expired.at] });
    printSummary('black-holed member', result);
    const cutRuns = allRuns.filter((r) => r.member === cut.memberId);
    const aborted = cutRuns.filter((r) => r.outcome === 'aborted');
    const afterRestore = cutRuns.filter((r) => r.outcome === 'ok' && r.startedAt > restoredAt);
    console.log(
      `black-holed member: partition ${cutPartition} lost (${expired.reason}) ${expired.at - blackholedAt} ms ` +
        `after the cut, moved after ${movedAfterMs} ms (session ${SESSION_MS} ms); handlers aborted ${aborted.length}; handled after it rejoined ${afterRestore.length}`,
    );

    expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
    expect(expired).toMatchObject({ type: 'lost', reason: 'expired' });
    // The handler that ran when the member was cut off saw its signal abort.
    const heldUid = history.entries.find((e): e is ProducedRecord => e.kind === 'produced' && e.key.startsWith('held-'))?.uid;
    expect(aborted.map((r) => r.uid)).toEqual([heldUid]);
    // Not before the lease could have run out in Redis (renewed at most a heartbeat before the cut).
    expect(movedAfterMs).toBeGreaterThanOrEqual(SESSION_MS - 1_000);
    expect(afterRestore.length).toBeGreaterThan(0);
  });
});
