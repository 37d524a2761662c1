import { partitionForKey, type RetentionResult } from '@brook/broker';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { createBrook, rawRedis, redisTimeMs, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { check, printSummary } from './support/checker.js';
import { HistoryRecorder, RedisHistory, type ProducedRecord, type RunRecord } from './support/history.js';
import { startFaultMember, type FaultMember } from './support/members.js';
import { ownedPartitions } from './support/scenario-members.js';
import { readLogs, Workload, type WorkloadValue } from './support/workload.js';

const PARTITIONS = 2;
const HOUR = 3_600_000;
const SESSION_MS = 3_000;
const BACKOFF_MS = 200;
const RETENTION_MS = 60_000;

const servers: RedisServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

const realNow = Date.now;

/** Runs `work` in this process with its wall clock `offsetMs` off (Brook's clients here included). */
async function withClockOffset<T>(offsetMs: number, work: () => Promise<T>): Promise<T> {
  const clock = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);
  try {
    return await work();
  } finally {
    clock.mockRestore();
  }
}

const membershipEvents = (member: FaultMember) => member.events.filter((e) => e.type === 'rebalance' || e.type === 'lost').length;

/** Each failed run and the run of the same message that came next: how long the retry took. */
function retryGaps(runs: RunRecord[]): Array<{ failed: RunRecord; retry: RunRecord; gapMs: number }> {
  const sorted = [...runs].sort((a, b) => a.startedAt - b.startedAt);
  return sorted
    .filter((run) => run.outcome === 'error')
    .map((failed) => {
      const retry = sorted.find((run) => run.uid === failed.uid && run.startedAt > failed.startedAt)!;
      return { failed, retry, gapMs: retry.startedAt - failed.endedAt };
    });
}

describe('members, a producer and a maintenance host with skewed clocks', () => {
  it('retries after the backoff on the Redis clock, keeps leases and sessions steady, and retention keeps fresh messages: lost 0', async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const brook = createBrook({ redis: server.url });
    const keys = new KeySpace(brook.options.prefix);
    const topic = uniqueName('orders');
    const group = 'billing';
    await brook.admin().createTopic({ topic, partitions: PARTITIONS, retention: { maxAgeMs: RETENTION_MS } });
    // A control: a topic whose messages do grow old during the scenario, so retention is seen to work.
    const control = uniqueName('audit');
    await brook.admin().createTopic({ topic: control, retention: { maxAgeMs: 1_000 } });
    const history = new HistoryRecorder();
    const records = `${brook.options.prefix}:runs`;
    const workload = new Workload(brook, topic, history, { keys: 4 });
    const finished = async () => (await brook.admin().describeGroup({ group, topic })).partitions.every((p) => p.lag === 0 && p.pending === 0 && p.retrying === 0);
    const maintain = () => withClockOffset(HOUR, () => brook.admin().enforceRetention());
    let failures = 0;
    // Every 4th message fails once, on a key of its own (non-blocking retries give up key order).
    const failEveryFourth = (v: WorkloadValue): WorkloadValue => (++failures % 4 === 0 ? { ...v, key: `retry/${v.uid}`, fail: 1 } : v);

    // A producer 2 minutes behind; half its messages carry its own timestamps.
    await withClockOffset(-2 * 60_000, async () => {
      await workload.produce(20, 'before-fault');
      const stamped = Array.from({ length: 20 }, (_, i) => ({ uid: `stamped#${i}`, key: 'stamped', seq: i }));
      const sent = await workload.producer.send({ topic, messages: stamped.map((value) => ({ key: value.key, value, timestamp: Date.now() })) });
      stamped.forEach((v, i) =>
        history.record({ kind: 'produced', ...v, topic, partition: sent[i].partition, offset: sent[i].offset, acks: 'leader', acknowledged: true, at: Date.now(), phase: 'before-fault' }),
      );
    });
    await brook.producer().send({ topic: control, messages: Array.from({ length: 5 }, (_, i) => ({ value: { i } })) });
    const controlWrittenAt = await redisTimeMs(server.url);
    // A maintenance host an hour ahead, before any group read them: nothing is old on the Redis clock.
    const firstPass = await maintain();

    const settings = {
      redisUrl: server.url, recordUrl: inject('redisUrl'), records, prefix: brook.options.prefix, topic, group,
      sessionMs: SESSION_MS, retryMode: 'non-blocking' as const, backoffMs: BACKOFF_MS,
    };
    const ahead = await startFaultMember('ahead', { ...settings, clockSkewMs: HOUR });
    const behind = await startFaultMember('behind', { ...settings, clockSkewMs: -HOUR });
    await waitFor(() => ownedPartitions(ahead).size === 1 && ownedPartitions(behind).size === 1, { message: 'one partition per member' });
    const settled = membershipEvents(ahead) + membershipEvents(behind);
    const settledAt = await redisTimeMs(server.url);
    await withClockOffset(-2 * 60_000, async () => {
      for (let send = 0; send < 8; send++) expect(await workload.produce(5, 'during-fault', failEveryFourth)).toBe(true);
    });
    await waitFor(finished, { message: 'the group to finish, retries included', timeoutMs: 20_000 });
    // Two session timeouts on the Redis clock: long enough for sessions or leases kept on a member's clock to lapse.
    await waitForRedisTime(Math.max(settledAt + 2 * SESSION_MS, controlWrittenAt + 2_500), server.url);
    const spurious = membershipEvents(ahead) + membershipEvents(behind) - settled;
    const secondPass = await maintain();

    // The member an hour ahead parks a retry and dies: the other one runs it once it takes over.
    const [aheadPartition] = ownedPartitions(ahead);
    let n = 0;
    while (partitionForKey(Buffer.from(`handover/${n}`), PARTITIONS) !== aheadPartition) n++;
    await workload.produce(1, 'during-fault', (v) => ({ ...v, key: `handover/${n}`, fail: 1 }));
    const delay = rawRedis(server.url);
    await waitFor(async () => (await delay.zcard(keys.delayQueue(topic, aheadPartition, group))) > 0, { message: 'the retry to be parked', intervalMs: 5 });
    ahead.signal('SIGKILL');
    const killedAt = Date.now();
    await waitFor(finished, { message: 'the survivor to run the parked retry', timeoutMs: 20_000 });
    await behind.stop();

    const runs = (await new RedisHistory(rawRedis(), records).read()).filter((e): e is RunRecord => e.kind === 'run');
    history.recordAll(runs);
    history.recordAll(await readLogs(server.url, brook.options.prefix, topic, PARTITIONS));
    const result = check(history.entries, { mustSurvive: (p: ProducedRecord) => p.acknowledged, ordering: 'partition', inFlightAt: [killedAt] });
    printSummary('skewed clocks', result);
    const gaps = retryGaps(runs);
    const handover = gaps.filter(({ failed }) => failed.key.startsWith('handover/'));
    const steady = gaps.filter(({ failed }) => !failed.key.startsWith('handover/'));
    const lows = (await brook.admin().describeTopic(topic)).partitions.map((p) => p.lowOffset);
    console.log(
      `skewed clocks: ${steady.length} retries after ${Math.min(...steady.map((g) => g.gapMs))}..${Math.max(...steady.map((g) => g.gapMs))} ms (backoff ${BACKOFF_MS} ms); ` +
        `retry parked by the member an hour ahead, run by its successor after ${handover.map((g) => g.gapMs).join(', ')} ms; ` +
        `rebalances or losses after the group settled ${spurious}; retention removed ${JSON.stringify([...firstPass, ...secondPass])}`,
    );

    expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
    expect(result.counts.handled).toBe(result.counts.produced);
    expect(spurious).toBe(0);
    const removed = (pass: RetentionResult[], name: string) => pass.find((r) => r.topic === name)?.removed ?? 0;
    expect([removed(firstPass, topic), removed(secondPass, topic)]).toEqual([0, 0]);
    expect([removed(firstPass, control), removed(secondPass, control)]).toEqual([0, 5]);
    expect(lows).toEqual([0, 0]);
    expect(steady.length).toBe(10);
    for (const { gapMs } of steady) {
      expect(gapMs).toBeGreaterThanOrEqual(BACKOFF_MS - 50);
      expect(gapMs).toBeLessThan(2_000);
    }
    expect(handover.length).toBe(1);
    expect(handover[0].retry.member).toBe(behind.memberId);
    expect(handover[0].gapMs).toBeLessThan(SESSION_MS + 3_000);
  });
});
