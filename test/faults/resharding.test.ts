import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBrook, rawRedis, uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { ClusterSetup } from '../support/cluster.js';
import { addressOf, ask } from '../support/redis-admin.js';
import type { RedisServer } from '../support/redis-server.js';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { slotOf } from '../../libs/broker/src/redis/topology.js';
import { check, printSummary } from './support/checker.js';
import { highest, okRuns, range, readClusterLogs, stallsAcross, waitUntilWarm, waitUntilWorkedOff } from './support/cluster-scenario.js';
import { HistoryRecorder, RedisHistory, type ProducedRecord } from './support/history.js';
import { PartitionWorkload } from './support/partition-workload.js';
import { startProbeMember } from './support/probe-members.js';

const PARTITIONS = 12;
/** Partitions whose slots move, all from one primary to another. */
const MOVED = 3;
const SESSION_MS = 4_000;

/** Error replies the cluster's nodes sent, by type, summed over `servers` (`INFO errorstats`). */
async function errorReplies(servers: RedisServer[]): Promise<Record<'MOVED' | 'ASK' | 'TRYAGAIN' | 'CLUSTERDOWN', number>> {
  const totals = { MOVED: 0, ASK: 0, TRYAGAIN: 0, CLUSTERDOWN: 0 };
  for (const server of servers) {
    const info = await ask<string>(server.port, 'INFO', 'errorstats');
    for (const type of Object.keys(totals) as Array<keyof typeof totals>) totals[type] += Number(new RegExp(`^errorstat_${type}:count=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  }
  return totals;
}

/** Script calls the nodes refused before running them (a redirection or TRYAGAIN), summed (`INFO commandstats`). */
async function refusedScripts(servers: RedisServer[]): Promise<number> {
  let refused = 0;
  for (const server of servers) {
    const info = await ask<string>(server.port, 'INFO', 'commandstats');
    for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):.*rejected_calls=(\d+)/gm)) refused += Number(match[1]);
  }
  return refused;
}

describe('Redis Cluster resharding while producers and a group run', () => {
  let cluster: ClusterSetup;

  beforeAll(async () => {
    cluster = await ClusterSetup.start({ replicas: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("moves the slots of several partitions under load: scripts follow ASK, TRYAGAIN and MOVED, nothing is lost or half-applied, and acks 'all' waits on the node that holds the write", async () => {
    const prefix = uniquePrefix();
    const brook = createBrook({ redis: cluster.seeds, prefix });
    const keys = new KeySpace(prefix);
    const topic = uniqueName('orders');
    const group = uniqueName('billing');
    await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    const homes = await Promise.all(range(PARTITIONS).map((p) => cluster.primaryFor(keys.log(topic, p))));
    const source = cluster.serverAt(homes[0]);
    const moved = range(PARTITIONS).filter((p) => homes[p] === homes[0]).slice(0, MOVED);
    const target = cluster.primaries.find((primary) => primary !== source)!;
    expect(moved.length, `partitions on ${homes[0]}`).toBe(MOVED);

    const history = new HistoryRecorder();
    const runs = new RedisHistory(rawRedis(), `${prefix}:runs`);
    const members = await Promise.all(
      ['a', 'b'].map((name) =>
        startProbeMember(name, {
          deployment: cluster.seeds,
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
    const durable = new PartitionWorkload(brook.producer({ acks: 'all' }), topic, PARTITIONS, history, 'all-');
    const fast = new PartitionWorkload(brook.producer({ acks: 'leader' }), topic, PARTITIONS, history, 'leader-');
    for (const workload of [durable, fast]) workload.start({ perSend: 1, everyMs: 100, phase: () => phase });
    await waitUntilWarm(brook, { group, topic, partitions: PARTITIONS, members: 2, runsEach: 5, runs: () => runs.read() });

    for (const server of cluster.servers) await ask(server.port, 'CONFIG', 'RESETSTAT');
    phase = 'during-fault';
    const moves = [];
    for (const p of moved) moves.push({ partition: p, ...(await cluster.migrateSlot(slotOf(keys.log(topic, p)), source, target)) });
    const reshardedAt = Date.now();
    phase = 'after-fault';
    await waitFor(async () => {
      const resumed = okRuns(await runs.read()).filter((run) => run.startedAt > reshardedAt);
      return moved.every((p) => resumed.some((run) => run.partition === p));
    }, { message: 'the moved partitions to be consumed from their new primary', timeoutMs: 30_000, intervalMs: 100 });
    await Promise.all([durable.stop(), fast.stop()]);
    await waitUntilWorkedOff(brook, group, topic);
    const redirections = await errorReplies(cluster.servers);
    const refused = await refusedScripts(cluster.servers);
    await Promise.all(members.map((member) => member.stop()));

    history.recordAll(await runs.read());
    history.recordAll(await readClusterLogs(cluster, prefix, topic, PARTITIONS));
    const inDoubtAt = members.flatMap((m) => m.events.flatMap((e) => (e.type === 'lost' ? [e.at] : [])));
    // No primary failed: everything acknowledged, with either acks, must be there.
    const result = check(history.entries, { mustSurvive: (p) => p.acknowledged, ordering: 'partition', inFlightAt: [...moves.map((m) => m.startedAt), ...inDoubtAt] });
    const firstMoveAt = moves[0].startedAt;
    const stalls = moves.map((move) => ({ ...stallsAcross(okRuns(history.entries), [move.partition], move.startedAt)[0], migratingMs: move.doneAt - move.startedAt }));
    const others = stallsAcross(okRuns(history.entries), range(PARTITIONS).filter((p) => !moved.includes(p)), firstMoveAt);
    const failures = [durable, fast].flatMap((workload) => [...workload.failures]);
    printSummary('resharding', result);
    console.log(
      `resharding: moved partitions ${moved.join(',')} from ${addressOf(source)} to ${addressOf(target)} (${moves.map((m) => `${m.keys} keys in ${m.doneAt - m.startedAt} ms`).join(', ')}); ` +
        `replies: ASK ${redirections.ASK}, MOVED ${redirections.MOVED}, TRYAGAIN ${redirections.TRYAGAIN}, CLUSTERDOWN ${redirections.CLUSTERDOWN}; script calls refused ${refused}`,
    );
    console.log(
      `resharding: moved partitions stalled up to ${highest(stalls.map((s) => s.stalledMs))} ms (${stalls.map((s) => `${s.partition}:${s.stalledMs} ms, migrating ${s.migratingMs} ms`).join('; ')}); ` +
        `other partitions up to ${highest(others.map((s) => s.stalledMs))} ms; leases lost ${inDoubtAt.length}; sends failed ${failures.length === 0 ? 0 : JSON.stringify(failures)}`,
    );

    expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, logReorders: 0, fencedButAccepted: 0, overlapping: 0 });
    expect(redirections.ASK).toBeGreaterThan(0);
    expect(redirections.MOVED).toBeGreaterThan(0);
    expect(redirections.TRYAGAIN).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    expect(members.flatMap((m) => m.events.filter((e) => e.type === 'crash'))).toEqual([]);
    // Nothing half-applied: every key of a partition sits in the partition's slot, on the primary serving it.
    await expectEveryPartitionInOneSlot();

    async function expectEveryPartitionInOneSlot(): Promise<void> {
      const primaries = await cluster.currentPrimaries();
      for (const p of range(PARTITIONS)) {
        const slot = slotOf(keys.log(topic, p));
        const owner = await cluster.primaryFor(keys.log(topic, p));
        for (const primary of primaries) {
          const found = await ask<[string, string[]]>(primary.port, 'SCAN', 0, 'MATCH', `${prefix}:${keys.partitionTag(topic, p)}*`, 'COUNT', 100_000);
          for (const key of found[1]) {
            expect(slotOf(key), `${key}'s slot`).toBe(slot);
            expect(addressOf(primary), `the node holding ${key}`).toBe(owner);
          }
          if (addressOf(primary) === owner) expect(found[1]).toContain(keys.log(topic, p));
        }
      }
      for (const p of moved) expect(await cluster.primaryFor(keys.log(topic, p)), `the primary of moved partition ${p}`).toBe(addressOf(target));
    }
  });

  it("confirms an acks 'all' write redirected by ASK on the node that ran it, not on the slot's old owner", async () => {
    const prefix = uniquePrefix();
    const brook = createBrook({ redis: cluster.seeds, prefix });
    const keys = new KeySpace(prefix);
    const topic = uniqueName('payments');
    // Age retention keeps the produce script's time index: every key it names exists, so the
    // target runs it during the migration (Redis answers TRYAGAIN while any key is missing there).
    await brook.admin().createTopic({ topic, partitions: 1, retention: { maxAgeMs: 3_600_000 } });
    const producer = brook.producer({ acks: 'all', ackTimeoutMs: 1_000, deliveryTimeoutMs: 5_000 });
    await producer.send({ topic, messages: [{ key: 'k', value: 'before' }] });
    const slot = slotOf(keys.log(topic, 0));
    const source = cluster.serverAt(await cluster.primaryFor(keys.log(topic, 0)));
    const primaries = await cluster.currentPrimaries();
    const target = primaries.find((primary) => primary !== source)!;
    const targetReplica = cluster.serverAt((await cluster.replicasOf(addressOf(target)))[0]);
    const nodes = await cluster.nodes(source);
    const idOf = (server: RedisServer) => nodes.find((node) => node.address === addressOf(server))!.id;

    // Every key of the partition is on the target, the slot still half-moved: the producer's slot
    // map names the source, which answers ASK.
    await ask(target.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', idOf(source));
    await ask(source.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', idOf(target));
    const slotKeys = await ask<string[]>(source.port, 'CLUSTER', 'GETKEYSINSLOT', slot, 100);
    await ask(source.port, 'MIGRATE', '127.0.0.1', target.port, '', 0, 5_000, 'KEYS', ...slotKeys);
    await ask(source.port, 'CONFIG', 'RESETSTAT');
    targetReplica.signal('SIGSTOP');
    let refused: unknown;
    try {
      refused = await producer.send({ topic, messages: [{ key: 'k', value: 'during' }] }).then(() => undefined, (error: unknown) => error);
    } finally {
      targetReplica.signal('SIGCONT');
    }
    const asked = (await errorReplies([source])).ASK;
    for (const primary of [target, source, ...primaries.filter((server) => server !== target && server !== source)]) {
      await ask(primary.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', idOf(target));
    }
    const after = await producer.send({ topic, messages: [{ key: 'k', value: 'after' }] });
    console.log(`resharding: a write redirected by ASK (${asked} ASK replies) with the target's replica frozen: ${refused instanceof Error ? refused.message.slice(0, 120) : String(refused)}`);

    // Waiting on the source would have been confirmed by its healthy replica; the target's is frozen.
    expect(asked).toBeGreaterThan(0);
    expect(refused).toMatchObject({ code: 'NOT_ENOUGH_REPLICAS', written: true });
    expect(after[0].offset).toBe(2);
    const log = await cluster.readFromReplica<Array<[string, string[]]>>(addressOf(targetReplica), 'XRANGE', keys.log(topic, 0), '-', '+');
    expect(log.map(([id]) => id)).toEqual(['0-1', '0-2', '0-3']);
  });
});
