import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBrook, rawRedis, uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { ClusterSetup } from '../support/cluster.js';
import { addressOf } from '../support/redis-admin.js';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { check, printSummary } from './support/checker.js';
import { highest, okRuns, range, readClusterLogs, stallsAcross, waitUntilWarm, waitUntilWorkedOff } from './support/cluster-scenario.js';
import { HistoryRecorder, RedisHistory, type ProducedRecord } from './support/history.js';
import { PartitionWorkload } from './support/partition-workload.js';
import { startProbeMember, type ProbeMemberSettings } from './support/probe-members.js';

const PARTITIONS = 24;
const NODE_TIMEOUT_MS = 1_500;
const SESSION_MS = 4_000;
const HEARTBEAT_MS = 400;

describe('Redis Cluster failover under load (3 primaries, 3 replicas)', () => {
  let cluster: ClusterSetup;

  beforeAll(async () => {
    cluster = await ClusterSetup.start({ replicas: 1, nodeTimeoutMs: NODE_TIMEOUT_MS, automaticFailover: true });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("loses nothing acknowledged with acks 'all' or written after the failover, and the moved partitions resume within node timeout + election + one session", async () => {
    const prefix = uniquePrefix();
    const brook = createBrook({ redis: cluster.seeds, prefix });
    const keys = new KeySpace(prefix);
    const topic = uniqueName('orders');
    const group = uniqueName('billing');
    await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    // The primary holding the group's own keys (membership, assignment) dies: the harder case.
    const victim = cluster.serverAt(await cluster.primaryFor(keys.groupMembers(group)));
    const homes = await Promise.all(range(PARTITIONS).map((p) => cluster.primaryFor(keys.log(topic, p))));
    const moved = range(PARTITIONS).filter((p) => homes[p] === addressOf(victim));
    const stayed = range(PARTITIONS).filter((p) => homes[p] !== addressOf(victim));

    const history = new HistoryRecorder();
    const runs = new RedisHistory(rawRedis(), `${prefix}:runs`);
    const settings: ProbeMemberSettings = {
      deployment: cluster.seeds,
      recordUrl: inject('redisUrl'),
      records: runs.key,
      prefix,
      group,
      topics: [{ topic }],
      consumer: { sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: HEARTBEAT_MS },
      handlerMs: 2,
      concurrency: PARTITIONS,
    };
    const startedAt = Date.now();
    const step = (what: string) => console.log(`Cluster failover: ${what} at ${((Date.now() - startedAt) / 1_000).toFixed(1)} s`);
    const members = await Promise.all(['a', 'b', 'c'].map((name) => startProbeMember(name, settings)));
    step('members joined');
    let phase: ProducedRecord['phase'] = 'before-fault';
    const durable = new PartitionWorkload(brook.producer({ acks: 'all' }), topic, PARTITIONS, history, 'all-');
    const fast = new PartitionWorkload(brook.producer({ acks: 'leader' }), topic, PARTITIONS, history, 'leader-');
    for (const workload of [durable, fast]) workload.start({ perSend: 1, everyMs: 150, phase: () => phase });
    await waitUntilWarm(brook, { group, topic, partitions: PARTITIONS, members: 3, runsEach: 5, runs: () => runs.read() });

    step('warm');
    const killedAt = Date.now();
    phase = 'during-fault';
    await victim.kill();
    const promotion = await cluster.waitForPromotion(victim);
    phase = 'after-fault';
    step('promoted');
    const promotionMs = promotion.promotedAt - killedAt;
    // Every moved partition handles what was written after the promotion, without a restart.
    await waitUntilMovedResume(promotion.promotedAt);
    // The dead node comes back as the new primary's replica, so acks 'all' can be met again there.
    step('moved partitions resumed');
    await cluster.rejoinAsReplica(victim, promotion.promoted);
    step('dead node rejoined');
    const rejoinedAt = Date.now();
    await waitUntilDurableAcknowledgedAfter(rejoinedAt);
    await Promise.all([durable.stop(), fast.stop()]);
    step('producers stopped');
    await waitUntilWorkedOff(brook, group, topic);
    await Promise.all(members.map((member) => member.stop()));
    step('members stopped');

    history.recordAll(await runs.read());
    history.recordAll(await readClusterLogs(cluster, prefix, topic, PARTITIONS));
    const produced = history.entries.filter((e): e is ProducedRecord => e.kind === 'produced');
    const afterFailover = (p: ProducedRecord) => p.acknowledged && p.at >= promotion.promotedAt;
    // What a member had read but not acknowledged when it declared a partition in doubt was in
    // flight: the instants it did so count as fault instants, with the kill and the promotion.
    const inDoubtAt = members.flatMap((m) => m.events.flatMap((e) => (e.type === 'lost' ? [e.at] : [])));
    const result = check(history.entries, { mustSurvive: (p) => p.acknowledged && (p.acks === 'all' || afterFailover(p)), ordering: 'partition', inFlightAt: [killedAt, promotion.promotedAt, ...inDoubtAt] });
    const lostAll = check(history.entries, { mustSurvive: (p) => p.acknowledged && p.acks === 'all', ordering: 'partition' }).counts.lost;
    const lostAfter = check(history.entries, { mustSurvive: afterFailover, ordering: 'partition' }).counts.lost;
    const lostLeaderBefore = check(history.entries, { mustSurvive: (p) => p.acknowledged && p.acks === 'leader' && p.at < killedAt, ordering: 'partition' }).counts.lost;
    const ok = okRuns(history.entries);
    const movedStalls = stallsAcross(ok, moved, killedAt);
    const stayedStalls = stallsAcross(ok, stayed, killedAt);
    const stallMs = highest(movedStalls.map((s) => s.stalledMs));
    const boundMs = promotionMs + SESSION_MS;
    const failedSends = (acks: ProducedRecord['acks']) => produced.filter((p) => p.acks === acks && !p.acknowledged).length;

    printSummary('Cluster failover', result);
    console.log(
      `Cluster failover: killed ${addressOf(victim)} (partitions ${moved.join(',')} and the group's keys); ${addressOf(promotion.promoted)} promoted after ${promotionMs} ms (every node agreed after ${promotion.settledAt - killedAt} ms); ` +
        `node timeout ${NODE_TIMEOUT_MS} ms, session timeout ${SESSION_MS} ms`,
    );
    console.log(
      `Cluster failover: acknowledged-with-all lost ${lostAll}; written-after-failover lost ${lostAfter}; acks 'leader' before the kill lost ${lostLeaderBefore}; ` +
        `per-key regressions ${result.counts.reorderedPerKey}; fenced-but-accepted ${result.counts.fencedButAccepted}; duplicates ${result.counts.duplicated} ` +
        `(in flight ${result.counts.inFlightDuplicates}); sends failed: acks 'all' ${failedSends('all')}, acks 'leader' ${failedSends('leader')}`,
    );
    console.log(
      `Cluster failover: moved partitions stalled up to ${stallMs} ms (bound ${boundMs} ms = promotion + one session), ` +
        `resumed ${movedStalls.map((s) => `${s.partition}:${s.resumedAfterMs}`).join(' ')}; other partitions stalled up to ${highest(stayedStalls.map((s) => s.stalledMs))} ms; ` +
        `dead node back as a replica ${rejoinedAt - promotion.promotedAt} ms after the promotion`,
    );
    for (const workload of [durable, fast]) for (const [reason, count] of workload.failures) console.log(`Cluster failover: ${count} send(s) failed: ${reason}`);
    for (const duplicate of result.examples.duplicated.filter((d) => !d.inFlight)) {
      console.log(`Cluster failover: unexplained duplicate ${duplicate.uid}: ${JSON.stringify(duplicate.okRuns.map((run) => ({ member: run.member.slice(0, 1), offset: run.offset, attempt: run.attempt, startedAt: run.startedAt - killedAt, endedAt: run.endedAt - killedAt, lease: run.leaseHolderAtEnd })))}`);
    }
    console.log(`Cluster failover: leases lost ${JSON.stringify(members.flatMap((m) => m.events.filter((e) => e.type === 'lost').map((e) => ({ member: m.name, ...e, at: e.at - killedAt }))))}`);

    expect(lostAll).toBe(0);
    expect(lostAfter).toBe(0);
    expect(result.counts).toMatchObject({ reorderedPerKey: 0, fencedButAccepted: 0, duplicateAppends: 0, overlapping: 0, unexplainedDuplicates: 0 });
    expect(stallMs).toBeLessThanOrEqual(boundMs);
    expect(members.flatMap((m) => m.events.filter((e) => e.type === 'crash'))).toEqual([]);

    async function waitUntilMovedResume(after: number): Promise<void> {
      await waitFor(async () => {
        const resumed = okRuns(await runs.read()).filter((run) => run.startedAt > after);
        return moved.every((p) => resumed.some((run) => run.partition === p));
      }, { message: 'every moved partition to handle messages after the promotion', timeoutMs: 30_000, intervalMs: 100 });
    }

    async function waitUntilDurableAcknowledgedAfter(after: number): Promise<void> {
      await waitFor(
        () => moved.every((p) => history.entries.some((e) => e.kind === 'produced' && e.acks === 'all' && e.acknowledged && e.partition === p && e.at >= after)),
        { message: "acks 'all' sends to every moved partition to be acknowledged again", timeoutMs: 30_000, intervalMs: 100 },
      );
    }
  });
});
