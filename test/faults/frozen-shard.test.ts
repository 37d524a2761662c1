import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Brook } from '@brook/broker';
import { createBrook, rawRedis, uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { ClusterSetup } from '../support/cluster.js';
import { addressOf, ask } from '../support/redis-admin.js';
import type { RedisServer } from '../support/redis-server.js';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { check, printSummary } from './support/checker.js';
import { HistoryRecorder, RedisHistory, type RunRecord } from './support/history.js';
import { PartitionWorkload } from './support/partition-workload.js';
import { startProbeMember, type ProbeMember, type ProbeMemberSettings } from './support/probe-members.js';

const PARTITIONS = 12;
const FREEZE_MS = 8_000;
/** The default session timeout: the members run with default consumer options. */
const SESSION_MS = 10_000;
/** How long the shard stays frozen at most while a member stops. */
const STOP_CAP_MS = 30_000;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A topic of 12 partitions, a group whose coordination keys live on a primary that also serves some of them, and that primary. */
interface Setup {
  brook: Brook;
  prefix: string;
  topic: string;
  group: string;
  frozen: RedisServer;
  frozenPartitions: number[];
  healthyPartitions: number[];
}

describe('Redis Cluster with one primary frozen (SIGSTOP) and no failover', () => {
  let cluster: ClusterSetup;

  beforeAll(async () => {
    cluster = await ClusterSetup.start();
    // Redis' default refuses every command on every shard (CLUSTERDOWN) once one primary is marked
    // failed; an operator who wants the other shards served through an outage turns that off.
    for (const node of cluster.servers) await ask(node.port, 'CONFIG', 'SET', 'cluster-require-full-coverage', 'no');
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** Freezes the primary holding the group's own keys (heartbeats, assignment): the harder case. */
  async function setUp(): Promise<Setup> {
    // Every node must see every other as healthy again after an earlier freeze.
    for (const node of cluster.servers) {
      await waitFor(async () => {
        const lines = (await ask<string>(node.port, 'CLUSTER', 'NODES')).trim().split('\n');
        return lines.every((line) => !line.split(' ')[2].split(',').some((flag) => flag === 'fail' || flag === 'fail?'));
      }, { message: `node ${node.port} to see no failed node`, timeoutMs: 30_000, intervalMs: 100 });
    }
    const prefix = uniquePrefix();
    const brook = createBrook({ redis: cluster.connection, prefix });
    const keys = new KeySpace(prefix);
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    const homes = await Promise.all(range(PARTITIONS).map((p) => cluster.primaryFor(keys.log(topic, p))));
    for (let i = 0; ; i++) {
      const group = `billing-${i}`;
      const home = await cluster.primaryFor(keys.groupMembers(group));
      const frozenPartitions = range(PARTITIONS).filter((p) => homes[p] === home);
      if (frozenPartitions.length === 0) continue;
      const frozen = cluster.primaries.find((server) => addressOf(server) === home)!;
      return { brook, prefix, topic, group, frozen, frozenPartitions, healthyPartitions: range(PARTITIONS).filter((p) => homes[p] !== home) };
    }
  }

  function memberSettings(setup: Setup): ProbeMemberSettings {
    return {
      deployment: cluster.connection,
      recordUrl: inject('redisUrl'),
      records: `${setup.prefix}:runs`,
      prefix: setup.prefix,
      group: setup.group,
      topics: [{ topic: setup.topic }],
      handlerMs: 5,
      concurrency: PARTITIONS,
    };
  }

  /** Both members joined, own six partitions each, and every partition has handled a few messages. */
  async function warmedUp(setup: Setup, runs: RedisHistory): Promise<void> {
    await waitFor(async () => {
      const { members, partitions } = await setup.brook.admin().describeGroup({ group: setup.group, topic: setup.topic });
      if (members.length !== 2 || !members.every((m) => m.partitions.length === PARTITIONS / 2) || partitions.some((p) => p.owner === null)) return false;
      const ok = (await runs.read()).filter((r): r is RunRecord => r.kind === 'run' && r.outcome === 'ok');
      return range(PARTITIONS).every((p) => ok.filter((r) => r.partition === p).length >= 5);
    }, { message: 'both members to share the partitions and handle messages on each', timeoutMs: 30_000, intervalMs: 100 });
  }

  it('keeps consuming the healthy shards through the freeze and resumes the frozen one after it', async () => {
    const setup = await setUp();
    const { brook, topic, group, frozen, frozenPartitions, healthyPartitions } = setup;
    const history = new HistoryRecorder();
    const runs = new RedisHistory(rawRedis(), `${setup.prefix}:runs`);
    const members = [await startProbeMember('a', memberSettings(setup)), await startProbeMember('b', memberSettings(setup))];
    let phase: 'before-fault' | 'during-fault' | 'after-fault' = 'before-fault';
    const workload = new PartitionWorkload(brook.producer(), topic, PARTITIONS, history);
    workload.start({ perSend: 1, everyMs: 100, phase: () => phase });
    await warmedUp(setup, runs);

    const freezeAt = Date.now();
    phase = 'during-fault';
    frozen.signal('SIGSTOP');
    await sleep(FREEZE_MS); // the fault's length
    frozen.signal('SIGCONT');
    const thawAt = Date.now();
    phase = 'after-fault';

    await waitFor(async () => {
      const ok = (await runs.read()).filter((r): r is RunRecord => r.kind === 'run' && r.outcome === 'ok' && r.startedAt > thawAt);
      return frozenPartitions.every((p) => ok.some((r) => r.partition === p));
    }, { message: 'the frozen partitions to resume', timeoutMs: 30_000, intervalMs: 100 });
    await workload.stop();
    await waitFor(async () => {
      const { partitions } = await brook.admin().describeGroup({ group, topic });
      return partitions.every((p) => p.lag === 0 && p.pending === 0);
    }, { message: 'every partition to be worked off', timeoutMs: 30_000, intervalMs: 100 });
    await Promise.all(members.map((member) => member.stop()));

    history.recordAll(await runs.read());
    const result = check(history.entries, { mustSurvive: (p) => p.acknowledged, ordering: 'partition', inFlightAt: [freezeAt, thawAt] });
    printSummary('frozen Cluster shard', result);
    const okRuns = history.entries.filter((e): e is RunRecord => e.kind === 'run' && e.outcome === 'ok');
    const during = (p: number) => okRuns.filter((r) => r.partition === p && r.startedAt >= freezeAt && r.startedAt < thawAt).length;
    const stalls = frozenPartitions.map((p) => {
      const starts = okRuns.filter((r) => r.partition === p).map((r) => r.startedAt).sort((a, b) => a - b);
      let longestGap = 0;
      for (let i = 1; i < starts.length; i++) if (starts[i] > freezeAt) longestGap = Math.max(longestGap, starts[i] - Math.max(starts[i - 1], freezeAt));
      return { partition: p, handledDuringFreeze: during(p), stalledMs: longestGap, resumedMsAfterThaw: starts.find((t) => t > thawAt)! - thawAt };
    });
    const lostDuringFreeze = members.flatMap((m) => m.events.flatMap((e) => (e.type === 'lost' && e.at >= freezeAt && e.at <= thawAt ? [{ member: m.name, ...e }] : [])));
    const lostLater = members.flatMap((m) => m.events.flatMap((e) => (e.type === 'lost' && e.at > thawAt ? [{ member: m.name, partition: e.partition, reason: e.reason, msAfterThaw: e.at - thawAt }] : [])));
    console.log(`frozen Cluster shard: ${frozen.port} frozen ${thawAt - freezeAt} ms with partitions ${frozenPartitions.join(',')} and the group's keys`);
    console.log(`frozen Cluster shard: handled during the freeze on healthy partitions: ${healthyPartitions.map((p) => `${p}:${during(p)}`).join(' ')} (total ${healthyPartitions.reduce((sum, p) => sum + during(p), 0)})`);
    console.log(`frozen Cluster shard: frozen partitions ${JSON.stringify(stalls)}`);
    console.log(`frozen Cluster shard: leases lost during the freeze ${JSON.stringify(lostDuringFreeze)}; after it ${JSON.stringify(lostLater)}`);

    expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
    for (const p of healthyPartitions) expect(during(p), `messages of healthy partition ${p} handled during the freeze`).toBeGreaterThan(0);
    expect(lostDuringFreeze.filter((e) => healthyPartitions.includes(e.partition))).toEqual([]);
    expect(members.flatMap((m) => m.events.filter((e) => e.type === 'crash'))).toEqual([]);
  });

  it('returns from consumer.stop() and brook.close() within the session timeout while a shard is frozen', async () => {
    const setup = await setUp();
    const runs = new RedisHistory(rawRedis(), `${setup.prefix}:runs`);
    const members: ProbeMember[] = [await startProbeMember('a', memberSettings(setup)), await startProbeMember('b', memberSettings(setup))];
    const workload = new PartitionWorkload(setup.brook.producer(), setup.topic, PARTITIONS, new HistoryRecorder());
    workload.start({ perSend: 1, everyMs: 100, phase: () => 'before-fault' });
    await warmedUp(setup, runs);

    setup.frozen.signal('SIGSTOP');
    const freezeAt = Date.now();
    // Let requests to the frozen primary pile up first: fetches, renewals, heartbeats.
    await sleep(1_000);
    // The shard stays frozen until the stop returns (or long past the session timeout): a thaw
    // would let a stop stuck on it finish and look quick.
    const stopping = members[0].stop();
    const stoppedFrozen = await Promise.race([stopping, sleep(STOP_CAP_MS).then(() => undefined)]);
    const frozenForMs = Date.now() - freezeAt;
    setup.frozen.signal('SIGCONT');
    const stopped = stoppedFrozen ?? (await stopping);
    await workload.stop();
    console.log(
      `frozen Cluster shard: consumer.stop() returned after ${stopped.stopMs.toFixed(0)} ms, brook.close() after ${stopped.closeMs.toFixed(0)} ms ` +
        (stoppedFrozen === undefined ? `— only after the thaw; the shard was frozen for ${frozenForMs} ms` : `with the shard frozen throughout (${frozenForMs} ms)`),
    );

    expect(stopped.stopMs).toBeLessThan(SESSION_MS);
    expect(stopped.closeMs).toBeLessThan(SESSION_MS);
    expect(stoppedFrozen, 'the member to stop while the shard is still frozen').toBeDefined();
  });
});
