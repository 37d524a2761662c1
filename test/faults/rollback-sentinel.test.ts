import { afterEach, describe, expect, inject, it } from 'vitest';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { waitForReplicas } from '../support/redis-admin.js';
import { RedisServer } from '../support/redis-server.js';
import { SentinelSetup } from '../support/sentinel.js';
import { check, printSummary } from './support/checker.js';
import { HistoryRecorder, RedisHistory, type ProducedRecord } from './support/history.js';
import { ownedPartitions, startScenarioMember } from './support/scenario-members.js';
import { failOverToLagging, pauseReplication } from './support/scenario-sentinel.js';
import { readLogs, Workload, type WorkloadValue } from './support/workload.js';

const PARTITIONS = 2;

let setup: SentinelSetup | undefined;
const servers: RedisServer[] = [];
afterEach(async () => {
  await setup?.stop();
  setup = undefined;
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** Keys and uids of one producer's messages, so two workloads never share a key. */
const tagged = (tag: string) => (v: WorkloadValue): WorkloadValue => ({ ...v, uid: `${tag}/${v.uid}`, key: `${tag}/${v.key}` });

describe('Sentinel fails over to a replica that lagged', () => {
  it("loses no write acknowledged with acks 'all' and nothing written after the failover; members report that offsets are handed out again", async () => {
    setup = await SentinelSetup.start({ sentinels: 3 });
    const lagging = setup.replica;
    const primary = setup.primary;
    const brook = createBrook({ redis: setup.connection, connection: { retries: 1_000, initialBackoffMs: 20, maxBackoffMs: 200 } });
    const topic = uniqueName('orders');
    const group = 'billing';
    await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    const history = new HistoryRecorder();
    const records = `${brook.options.prefix}:runs`;
    const settings = { deployment: setup.connection, recordUrl: inject('redisUrl'), records, prefix: brook.options.prefix, topic, group, sessionMs: 3_000 };
    const members = await Promise.all([startScenarioMember('a', settings), startScenarioMember('b', settings)]);
    const leader = new Workload(brook, topic, history, { keys: 4, acks: 'leader' });
    const all = new Workload(brook, topic, history, { keys: 4, acks: 'all', producer: brook.producer({ acks: 'all', ackTimeoutMs: 1_000 }) });
    const producerDataLoss: string[] = [];
    for (const producer of [leader.producer, all.producer]) {
      producer.on('request.error', ({ error }) => {
        if (error.code === 'DATA_LOSS') producerDataLoss.push(error.message);
      });
    }
    // Both producers at once, `sends` sends of 5 each: whether each send was acknowledged, acks 'leader' first.
    const produceBoth = async (sends: number, phase: ProducedRecord['phase']) => {
      const sendsOf = async (workload: Workload, tag: string) => {
        const acknowledged: boolean[] = [];
        for (let i = 0; i < sends; i++) acknowledged.push(await workload.produce(5, phase, tagged(tag)));
        return acknowledged;
      };
      return (await Promise.all([sendsOf(leader, 'leader'), sendsOf(all, 'all')])).flat();
    };
    const finished = async () => (await brook.admin().describeGroup({ group, topic })).partitions.every((p) => p.lag === 0 && p.pending === 0);

    expect(await produceBoth(6, 'before-fault')).not.toContain(false);
    await waitFor(finished, { message: 'the group to finish the first messages', timeoutMs: 20_000 });
    // The replica stops applying the replication stream: what the primary takes from now on exists only there.
    await pauseReplication(primary, lagging);
    const during = await produceBoth(4, 'during-fault');
    expect(during.slice(0, 4)).not.toContain(false); // acks 'leader': the primary took them
    await waitFor(finished, { message: 'the group to handle what only the primary holds', timeoutMs: 20_000 });

    const killAt = await failOverToLagging(setup, primary, lagging);
    const failedOverAt = Date.now();
    // A replica for the promoted primary, so acks 'all' can be confirmed again.
    const replica = await RedisServer.start({ replicaOf: lagging });
    servers.push(replica);
    await waitForReplicas(lagging, 1);

    await waitFor(() => members.every((member) => ownedPartitions(member).size > 0), { message: 'both members to consume again', timeoutMs: 20_000 });
    const rejoinedAt = Date.now();
    const after = await waitFor(async () => ((await produceBoth(4, 'after-fault')).every(Boolean) ? true : undefined), {
      message: 'the writes after the failover to be acknowledged',
      timeoutMs: 20_000,
    });
    expect(after).toBe(true);
    await waitFor(finished, { message: 'the group to finish everything written after the failover', timeoutMs: 20_000 });
    await Promise.all(members.map((member) => member.stop()));

    history.recordAll(await new RedisHistory(rawRedis(), records).read());
    const logs = await readLogs(lagging.url, brook.options.prefix, topic, PARTITIONS);
    history.recordAll(logs);
    const result = check(history.entries, {
      mustSurvive: (p) => p.acknowledged && (p.acks === 'all' || p.phase === 'after-fault'),
      ordering: 'partition',
      inFlightAt: [killAt],
    });
    printSummary('rollback: Sentinel failover to a lagging replica', result);

    const inLog = new Set(logs.map((entry) => entry.uid));
    const acknowledged = (acks: ProducedRecord['acks']) => history.entries.filter((e): e is ProducedRecord => e.kind === 'produced' && e.acks === acks && e.acknowledged);
    const leaderLost = acknowledged('leader').filter((p) => !inLog.has(p.uid));
    const allLost = acknowledged('all').filter((p) => !inLog.has(p.uid));
    const reusedOffsets = acknowledged('leader').filter((p) => p.phase === 'after-fault' && leaderLost.some((l) => l.partition === p.partition && l.offset === p.offset)).length;
    const dataLossEvents = members.flatMap((member) => member.events.filter((e) => e.type === 'data-loss'));
    const rollbacks = (await brook.admin().describeGroup({ group, topic })).partitions.reduce((sum, p) => sum + p.counters.rollbacks, 0);
    console.log(
      `rollback: Sentinel failover: acks 'leader' acknowledged ${acknowledged('leader').length}, lost ${leaderLost.length} ` +
        `(offsets handed out again: ${reusedOffsets}); acks 'all' acknowledged ${acknowledged('all').length}, lost ${allLost.length}; ` +
        `failover took ${failedOverAt - killAt} ms, both members consumed again after ${rejoinedAt - killAt} ms; members' data-loss reports ${dataLossEvents.length}, group rollbacks ${rollbacks}, producers' data-loss reports ${producerDataLoss.length}`,
    );

    expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
    expect(allLost).toEqual([]);
    // The scenario did what it set out to: the replica lacked acknowledged acks 'leader' writes.
    expect(leaderLost.length).toBeGreaterThan(0);
    expect(dataLossEvents.length + rollbacks).toBeGreaterThan(0);
  });
});
