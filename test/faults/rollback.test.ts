import { afterEach, describe, expect, inject, it } from 'vitest';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';
import { check, printSummary } from './support/checker.js';
import { HistoryRecorder, RedisHistory } from './support/history.js';
import { startFaultMember } from './support/members.js';
import { readLogs, Workload } from './support/workload.js';
import { rawRedis } from '../support/brook.js';

const servers: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

describe('Redis loses its last writes (restart from an older snapshot)', () => {
  it('never lets an acknowledgement from before the rollback remove a message written after it: lost 0, lag exact', async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const brook = createBrook({ redis: server.url, connection: { retries: 1_000, initialBackoffMs: 20, maxBackoffMs: 200 } });
    const topic = uniqueName('orders');
    const group = 'billing';
    await brook.admin().createTopic({ topic, partitions: 1 });
    const history = new HistoryRecorder();
    const records = `${brook.options.prefix}:runs`;
    const member = await startFaultMember('a', {
      redisUrl: server.url,
      recordUrl: inject('redisUrl'),
      records,
      prefix: brook.options.prefix,
      topic,
      group,
      sessionMs: 2_000,
    });
    const workload = new Workload(brook, topic, history, { keys: 1 });
    const describe = async () => (await brook.admin().describeGroup({ group, topic })).partitions[0];

    await workload.produce(100, 'before-fault');
    await waitFor(async () => (await describe()).committedOffset === 100, { message: 'the first 100 messages to be processed' });
    await server.command('SAVE');

    // X1..X10: written after the snapshot, so Redis forgets them; X1's handler is still running.
    await workload.produce(10, 'during-fault', (v) => (v.seq === 100 ? { ...v, holdMs: 1_500 } : v));
    await waitFor(() => member.events.some((e) => e.type === 'holding'), { message: "X1's handler to start" });
    const faultAt = Date.now();
    await server.restart();

    // Y1..Y12 reuse offsets 100..111.
    const ys = await waitFor(async () => ((await workload.produce(12, 'after-fault')) ? true : undefined), { message: 'Y1..Y12 to be written', timeoutMs: 15_000 });
    expect(ys).toBe(true);
    await waitFor(async () => {
      const p = await describe();
      return p.committedOffset === 112 && p.pending === 0 && p.lag === 0;
    }, { message: 'the group to finish Y1..Y12', timeoutMs: 20_000 });
    await member.stop();

    const runs = await new RedisHistory(rawRedis(), records).read();
    history.recordAll(runs);
    history.recordAll(await readLogs(server.url, brook.options.prefix, topic, 1));
    const result = check(history.entries, { mustSurvive: (p) => p.phase !== 'during-fault', ordering: 'partition', inFlightAt: [faultAt] });
    printSummary('rollback: restart from an older snapshot', result);
    expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
    // The member noticed that Redis went back.
    expect(member.events.some((e) => e.type === 'data-loss')).toBe(true);
  });
});
