import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createBrook, rawRedis, uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { ClusterSetup, type Promotion } from '../support/cluster.js';
import { addressOf, ask } from '../support/redis-admin.js';
import type { RedisServer } from '../support/redis-server.js';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { check, printSummary } from './support/checker.js';
import { highest, okRuns, range, readClusterLogs, stallsAcross, waitUntilWarm, waitUntilWorkedOff } from './support/cluster-scenario.js';
import { HistoryRecorder, RedisHistory, type ProducedRecord, type RunRecord } from './support/history.js';
import { PartitionWorkload } from './support/partition-workload.js';
import { startProbeMember, type ProbeMember } from './support/probe-members.js';

const PARTITIONS = 12;
const NODE_TIMEOUT_MS = 1_500;
const SESSION_MS = 4_000;
/** How long the primary stays frozen before it is killed: past the node timeout, so the cluster marks it failed. */
const FREEZE_MS = 5_000;

/** A running scenario: the cluster, a group of two members, a producer per partition, and the primary to freeze. */
interface Scenario {
  cluster: ClusterSetup;
  victim: RedisServer;
  replica: RedisServer;
  frozen: number[];
  healthy: number[];
  history: HistoryRecorder;
  runs: RedisHistory;
  members: ProbeMember[];
  workload: PartitionWorkload;
  setPhase(phase: ProducedRecord['phase']): void;
  finish(): Promise<void>;
}

describe('Redis Cluster primary frozen (SIGSTOP), then dead (SIGKILL), its replica promoted', () => {
  let cluster: ClusterSetup | undefined;

  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  async function start(): Promise<Scenario> {
    // Without full coverage the healthy shards keep serving while one primary is marked failed.
    cluster = await ClusterSetup.start({ replicas: 1, nodeTimeoutMs: NODE_TIMEOUT_MS, automaticFailover: true, requireFullCoverage: false });
    const prefix = uniquePrefix();
    const brook = createBrook({ redis: cluster.seeds, prefix });
    const keys = new KeySpace(prefix);
    const topic = uniqueName('orders');
    const group = uniqueName('billing');
    await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    // The primary that also holds the group's keys (heartbeats, assignment): the harder case.
    const victim = cluster.serverAt(await cluster.primaryFor(keys.groupMembers(group)));
    const replica = cluster.serverAt((await cluster.replicasOf(addressOf(victim)))[0]);
    const homes = await Promise.all(range(PARTITIONS).map((p) => cluster!.primaryFor(keys.log(topic, p))));
    const history = new HistoryRecorder();
    const runs = new RedisHistory(rawRedis(), `${prefix}:runs`);
    const members = await Promise.all(
      ['a', 'b'].map((name) =>
        startProbeMember(name, {
          deployment: cluster!.seeds,
          recordUrl: inject('redisUrl'),
          records: runs.key,
          prefix,
          group,
          topics: [{ topic }],
          consumer: { sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 400 },
          handlerMs: 2,
          concurrency: PARTITIONS,
        }),
      ),
    );
    let phase: ProducedRecord['phase'] = 'before-fault';
    const workload = new PartitionWorkload(brook.producer({ acks: 'leader' }), topic, PARTITIONS, history);
    workload.start({ perSend: 1, everyMs: 100, phase: () => phase });
    await waitUntilWarm(brook, { group, topic, partitions: PARTITIONS, members: 2, runsEach: 5, runs: () => runs.read() });
    const setup = cluster;
    return {
      cluster: setup,
      victim,
      replica,
      frozen: range(PARTITIONS).filter((p) => homes[p] === addressOf(victim)),
      healthy: range(PARTITIONS).filter((p) => homes[p] !== addressOf(victim)),
      history,
      runs,
      members,
      workload,
      setPhase: (next) => (phase = next),
      finish: async () => {
        await workload.stop();
        await waitUntilWorkedOff(brook, group, topic);
        await Promise.all(members.map((member) => member.stop()));
        history.recordAll(await runs.read());
        history.recordAll(await readClusterLogs(setup, prefix, topic, PARTITIONS));
      },
    };
  }

  /** Waits until each of `partitions` had a successful run that started after `after`. */
  async function waitUntilResumed(s: Scenario, partitions: number[], after: number, what: string): Promise<void> {
    await waitFor(async () => {
      const resumed = okRuns(await s.runs.read()).filter((run) => run.startedAt > after);
      return partitions.every((p) => resumed.some((run) => run.partition === p));
    }, { message: what, timeoutMs: 30_000, intervalMs: 100 });
  }

  function report(name: string, s: Scenario, faults: { frozenAt: number; promotion: Promotion; killedAt: number }): ReturnType<typeof check> {
    const inDoubtAt = s.members.flatMap((m) => m.events.flatMap((e) => (e.type === 'lost' ? [e.at] : [])));
    const result = check(s.history.entries, {
      // Acknowledged with acks 'leader': what the frozen primary took but never replicated may be
      // gone; everything sent once the replica served the slots must not be.
      mustSurvive: (p) => p.acknowledged && p.at >= faults.promotion.promotedAt,
      ordering: 'partition',
      inFlightAt: [faults.frozenAt, faults.killedAt, faults.promotion.promotedAt, ...inDoubtAt],
    });
    const lostBefore = check(s.history.entries, { mustSurvive: (p) => p.acknowledged && p.at < faults.frozenAt, ordering: 'partition' }).counts.lost;
    const ok = okRuns(s.history.entries);
    const stalls = stallsAcross(ok, s.frozen, faults.frozenAt);
    printSummary(name, result);
    console.log(
      `${name}: froze ${addressOf(s.victim)} (partitions ${s.frozen.join(',')} and the group's keys), killed it ${faults.killedAt - faults.frozenAt} ms later; ` +
        `${addressOf(faults.promotion.promoted)} promoted ${faults.promotion.promotedAt - faults.frozenAt} ms after the freeze (${faults.promotion.promotedAt - faults.killedAt} ms after the kill); ` +
        `its partitions stalled up to ${highest(stalls.map((x) => x.stalledMs))} ms (${stalls.map((x) => `${x.partition}:${x.stalledMs}`).join(' ')}); ` +
        `healthy partitions stalled up to ${highest(stallsAcross(ok, s.healthy, faults.frozenAt).map((x) => x.stalledMs))} ms`,
    );
    console.log(`${name}: acknowledged before the freeze lost ${lostBefore}; sends failed ${s.history.entries.filter((e) => e.kind === 'produced' && !e.acknowledged).length}`);
    return result;
  }

  /** Successful runs of each healthy partition that started while the primary was frozen. */
  function handledWhileFrozen(s: Scenario, from: number, to: number): Map<number, number> {
    const ok = okRuns(s.history.entries);
    return new Map(s.healthy.map((p) => [p, ok.filter((run: RunRecord) => run.partition === p && run.startedAt >= from && run.startedAt < to).length]));
  }

  it("stalls only the frozen primary's partitions, and they resume on the promoted replica once it is killed", async () => {
    const s = await start();
    // The replica waits for the kill: the freeze alone must not move anything.
    await ask(s.replica.port, 'CONFIG', 'SET', 'cluster-replica-no-failover', 'yes');
    const frozenAt = Date.now();
    s.setPhase('during-fault');
    s.victim.signal('SIGSTOP');
    await sleep(FREEZE_MS); // the length of the freeze
    const killedAt = Date.now();
    await s.victim.kill();
    await ask(s.replica.port, 'CONFIG', 'SET', 'cluster-replica-no-failover', 'no');
    const promotion = await s.cluster.waitForPromotion(s.victim);
    s.setPhase('after-fault');
    await waitUntilResumed(s, s.frozen, promotion.promotedAt, "the frozen primary's partitions to resume on the promoted replica");
    await s.finish();

    const result = report('frozen-then-dead shard', s, { frozenAt, promotion, killedAt });
    const whileFrozen = handledWhileFrozen(s, frozenAt, killedAt);
    console.log(`frozen-then-dead shard: handled while frozen on healthy partitions ${[...whileFrozen].map(([p, n]) => `${p}:${n}`).join(' ')}`);
    expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
    for (const [p, handled] of whileFrozen) expect(handled, `messages of healthy partition ${p} handled during the freeze`).toBeGreaterThan(FREEZE_MS / 100 / 3);
    expect(s.members.flatMap((m) => m.events.filter((e) => e.type === 'crash'))).toEqual([]);
  });

  it('follows a frozen primary failed over while still frozen: its partitions resume on the promoted replica before it is killed', async () => {
    const s = await start();
    const frozenAt = Date.now();
    s.setPhase('during-fault');
    s.victim.signal('SIGSTOP');
    // No connection drops and nobody redirects: only the slot map shows the replica took over.
    const promotion = await s.cluster.waitForPromotion(s.victim);
    s.setPhase('after-fault');
    await waitUntilResumed(s, s.frozen, promotion.promotedAt, "the frozen primary's partitions to resume on the promoted replica while it is still frozen");
    const resumedAt = Date.now();
    const killedAt = Date.now();
    await s.victim.kill();
    await s.finish();

    const result = report('frozen shard failed over', s, { frozenAt, promotion, killedAt });
    console.log(`frozen shard failed over: every frozen partition resumed ${resumedAt - promotion.promotedAt} ms after the promotion, with the old primary still frozen`);
    expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
    for (const [p, handled] of handledWhileFrozen(s, frozenAt, promotion.promotedAt)) expect(handled, `messages of healthy partition ${p} handled during the freeze`).toBeGreaterThan(0);
    expect(s.members.flatMap((m) => m.events.filter((e) => e.type === 'crash'))).toEqual([]);
  });
});
