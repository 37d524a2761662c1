import { partitionForKey } from '@brook/broker';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';
import { check, printSummary } from './support/checker.js';
import { HistoryRecorder, RedisHistory, type ProducedRecord } from './support/history.js';
import { ownedPartitions, startScenarioMember } from './support/scenario-members.js';
import { readLogs, Workload, type WorkloadValue } from './support/workload.js';

const PARTITIONS = 2;

const servers: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** Puts a message on `partition`, under a key of its own derived from the workload's (so per-key sequences stay intact). */
const onPartition = (partition: number) => (v: WorkloadValue): WorkloadValue => {
  for (let i = 0; ; i++) if (partitionForKey(Buffer.from(`${v.key}/${i}`), PARTITIONS) === partition) return { ...v, key: `${v.key}/${i}` };
};

describe('Redis loses writes the members had read, and partitions change hands', () => {
  it('regression: no one reported the rollback of a partition whose reader came back after another member took it, and one finding counted as several rollbacks', async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const brook = createBrook({ redis: server.url, connection: { retries: 1_000, initialBackoffMs: 20, maxBackoffMs: 200 } });
    const topic = uniqueName('orders');
    const group = 'billing';
    await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    const history = new HistoryRecorder();
    const records = `${brook.options.prefix}:runs`;
    const settings = { deployment: server.url, recordUrl: inject('redisUrl'), records, prefix: brook.options.prefix, topic, group, sessionMs: 3_000 };
    // The first member keeps partition 0 when the second joins (the surplus that moves is the highest).
    const first = await startScenarioMember('first', settings);
    const second = await startScenarioMember('second', settings);
    await waitFor(() => ownedPartitions(first).has(0) && ownedPartitions(first).size === 1 && ownedPartitions(second).has(1), { message: 'partition 0 on the first member, 1 on the second' });
    const workload = new Workload(brook, topic, history, { keys: 4 });
    const produceOnEach = async (count: number, phase: ProducedRecord['phase']) => {
      for (let p = 0; p < PARTITIONS; p++) expect(await workload.produce(count, phase, onPartition(p))).toBe(true);
    };
    const finished = async () => (await brook.admin().describeGroup({ group, topic })).partitions.every((p) => p.lag === 0 && p.pending === 0);

    await produceOnEach(10, 'before-fault');
    await waitFor(finished, { message: 'the first messages to be handled' });
    await server.command('SAVE');
    // Each member reads writes of its partition that the snapshot does not have.
    await produceOnEach(10, 'during-fault');
    await waitFor(finished, { message: 'the writes after the snapshot to be handled' });

    // The member that read partition 0's lost writes is slow to come back (frozen while idle).
    first.signal('SIGSTOP');
    const killedAt = Date.now();
    await server.kill();
    // Redis stays away long enough for the second member's attempts to take partition 1 back to time out.
    const acquireTimeouts = () => second.events.filter((e) => e.type === 'request-error' && e.operation.startsWith(`acquire partition 1 `)).length;
    await waitFor(() => acquireTimeouts() >= 2, { message: 'two attempts to take partition 1 back to time out', timeoutMs: 15_000 });
    await server.restart();
    await waitFor(() => ownedPartitions(second).size === PARTITIONS, { message: 'the second member to take both partitions', timeoutMs: 20_000 });
    first.signal('SIGCONT');
    await waitFor(() => ownedPartitions(first).size === 1 && ownedPartitions(second).size === 1, { message: 'the first member to rejoin', timeoutMs: 20_000 });
    const [firstNow] = ownedPartitions(first);
    await produceOnEach(10, 'after-fault');
    await waitFor(finished, { message: 'the writes after the restart to be handled', timeoutMs: 20_000 });
    await Promise.all([first.stop(), second.stop()]);

    history.recordAll(await new RedisHistory(rawRedis(), records).read());
    const logs = await readLogs(server.url, brook.options.prefix, topic, PARTITIONS);
    history.recordAll(logs);
    const result = check(history.entries, { mustSurvive: (p) => p.acknowledged && p.phase !== 'during-fault', ordering: 'partition', inFlightAt: [killedAt] });
    printSummary('rollback: partitions change hands', result);
    const inLog = new Set(logs.map((entry) => entry.uid));
    const lostOn = (partition: number) =>
      history.entries.filter((e): e is ProducedRecord => e.kind === 'produced' && e.acknowledged && e.partition === partition && !inLog.has(e.uid)).length;
    const reportsOn = (partition: number) =>
      [first, second].flatMap((m) => m.events).filter((e) => e.type === 'data-loss' && e.message.includes(`partition ${partition} of`)).length;
    const counters = (await brook.admin().describeGroup({ group, topic })).partitions.map((p) => p.counters.rollbacks);
    const partitions = Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, lost: lostOn(p), reports: reportsOn(p), rollbacks: counters[p] }));
    console.log(
      `rollback: partitions change hands: the first member came back with partition ${firstNow}; ` +
        `attempts to take partition 1 back that timed out ${acquireTimeouts()}; per partition ${JSON.stringify(partitions)}`,
    );

    expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
    for (const { partition, lost, reports, rollbacks } of partitions) {
      expect(lost, `acknowledged writes of partition ${partition} Redis lost`).toBeGreaterThan(0);
      // Offsets of the partition are handed out again: the group must say so, whoever holds it now.
      expect.soft(reports + rollbacks, `data-loss reports and rollbacks counted for partition ${partition}`).toBeGreaterThan(0);
      // "Times a member found the log end below what it had read": one count per finding.
      expect.soft(rollbacks, `rollbacks counted for partition ${partition}`).toBe(reports);
    }
  });
});
