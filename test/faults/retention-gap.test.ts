import { afterEach, describe, expect, inject, it } from 'vitest';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { check, printSummary } from './support/checker.js';
import { HistoryRecorder, RedisHistory, type ProducedRecord, type SkippedRecord } from './support/history.js';
import { startProbeMember, type ProbeMember } from './support/probe-members.js';
import { readLogs, Workload } from './support/workload.js';

const GAP = 50_000_000;
const PARTITIONS = 4;
const GAPPED = [0, 1];
const MB = 1_048_576;

const servers: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

describe('a retention gap of 50 million offsets', () => {
  it('skips each gap as one range of 50,000,000, handles everything after it and keeps the members small', async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const brook = createBrook({ redis: server.url });
    const keys = new KeySpace(brook.options.prefix);
    const topic = uniqueName('orders');
    const group = 'billing';
    await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    const history = new HistoryRecorder();
    const records = `${brook.options.prefix}:runs`;
    const settings = { deployment: server.url, recordUrl: inject('redisUrl'), records, prefix: brook.options.prefix, group, topics: [{ topic }], runtime: 'node' as const };
    const members: ProbeMember[] = [await startProbeMember('a', settings), await startProbeMember('b', settings)];
    const describeGroup = () => brook.admin().describeGroup({ group, topic });
    const workload = new Workload(brook, topic, history);

    // One message per partition, at offset 0, that the group reads before the gap opens.
    const producer = workload.producer;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const value = { uid: `first-${partition}#0`, key: `first-${partition}`, seq: 0 };
      const [sent] = await producer.send({ topic, messages: [{ partition, key: value.key, value }] });
      history.record({ kind: 'produced', ...value, topic, partition, offset: sent.offset, acks: 'leader', acknowledged: true, at: Date.now(), phase: 'before-fault' });
    }
    await waitFor(async () => {
      const { members: live, partitions } = await describeGroup();
      return live.length === 2 && live.every((m) => m.partitions.length === 2) && partitions.every((p) => p.committedOffset === 1 && p.owner !== null);
    }, { message: 'both members to share the partitions and read offset 0 of each', timeoutMs: 20_000 });
    const before = await Promise.all(members.map((member) => member.probe()));

    // What retention leaves behind after removing 50 M entries the group never read: the log's
    // last ID and counters move on, the entries are gone.
    const redis = rawRedis(server.url);
    for (const partition of GAPPED) {
      const last = `0-${1 + GAP}`;
      expect(await redis.call('XSETID', keys.log(topic, partition), last, 'ENTRIESADDED', String(1 + GAP), 'MAXDELETEDID', last)).toBe('OK');
    }
    const faultAt = Date.now();

    await workload.produce(200, 'after-fault');
    const produced = history.entries.filter((e): e is ProducedRecord => e.kind === 'produced');
    for (const partition of GAPPED) expect(produced.some((p) => p.partition === partition && p.offset > GAP)).toBe(true);
    const description = await waitFor(async () => {
      const current = await describeGroup();
      return current.partitions.every((p) => p.lag === 0 && p.committedOffset === p.highOffset) ? current : undefined;
    }, { message: 'the group to handle everything after the gaps', timeoutMs: 20_000 });
    const after = await Promise.all(members.map((member) => member.probe()));
    for (const member of members) await member.stop();

    history.recordAll(await new RedisHistory(rawRedis(), records).read());
    history.recordAll(await readLogs(server.url, brook.options.prefix, topic, PARTITIONS));
    const result = check(history.entries, { mustSurvive: () => true, ordering: 'partition', inFlightAt: [faultAt] });
    printSummary('retention gap of 50 M', result);
    const skipped = history.entries.filter((e): e is SkippedRecord => e.kind === 'skipped');
    const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
    members.forEach((member, i) => {
      console.log(
        `retention gap of 50 M: member ${member.name} rss ${mb(before[i].rss)} → ${mb(after[i].rss)} (peak ${mb(after[i].maxRss)}), ` +
          `heap ${mb(before[i].heapUsed)} → ${mb(after[i].heapUsed)}`,
      );
    });
    console.log(`retention gap of 50 M: skipped ${JSON.stringify(skipped.map(({ partition, from, to, count }) => ({ partition, from, to, count })))}`);

    expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
    expect(result.counts.handled).toBe(result.counts.produced);
    expect(members.flatMap((member) => member.events.filter((e) => e.type === 'crash'))).toEqual([]);
    // One range per gapped partition, none elsewhere.
    expect(skipped.map(({ partition, from, to, count }) => ({ partition, from, to, count })).sort((a, b) => a.partition - b.partition)).toEqual(
      GAPPED.map((partition) => ({ partition, from: 1, to: GAP, count: GAP })),
    );
    expect(description.partitions.map((p) => p.counters.skipped)).toEqual([GAP, GAP, 0, 0]);
    for (const probe of after) {
      expect(probe.maxRss).toBeLessThan(200 * MB);
      // The gap itself costs nothing worth measuring: not one number per skipped offset.
      expect(probe.heapUsed).toBeLessThan(100 * MB);
    }
  });
});
