import { describe, expect, inject, it } from 'vitest';
import type { Brook } from '@brook/broker';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
import { startMember, type MemberProcess, type MemberSettings } from '../support/members.js';
import { analyze, produceSteadily, readRecords } from './load.js';

const PARTITIONS = 8;

async function setup(sessionMs: number) {
  const brook = createBrook();
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions: PARTITIONS });
  const settings: MemberSettings = {
    redisUrl: inject('redisUrl'),
    prefix: brook.options.prefix,
    topic,
    group: 'billing',
    records: `${brook.options.prefix}:records`,
    sessionMs,
    heartbeatMs: 100,
    handlerDelayMs: 1,
  };
  return { brook, topic, settings };
}

/** Waits until `members` share every partition (each owned by a live member of the list). */
async function settled(brook: Brook, topic: string, members: MemberProcess[]) {
  const ids = new Set(members.map((m) => m.memberId));
  return waitFor(
    async () => {
      const description = await brook.admin().describeGroup({ group: 'billing', topic });
      const ok =
        description.members.length === members.length &&
        description.members.every((m) => ids.has(m.memberId) && m.partitions.length > 0) &&
        description.partitions.every((p) => p.owner !== null && ids.has(p.owner));
      return ok ? description : undefined;
    },
    { message: `${members.length} members to share the partitions`, timeoutMs: 15_000 },
  );
}

describe('crashes and restarts of members', () => {
  it('loses nothing and keeps per-key order when a member is SIGKILLed under load; its partitions resume within the session timeout + 1 s', async () => {
    const sessionMs = 1_500;
    const { brook, topic, settings } = await setup(sessionMs);
    const members = [await startMember('a', settings), await startMember('b', settings), await startMember('c', settings)];
    await settled(brook, topic, members);

    const total = 3_000;
    const load = produceSteadily(brook, topic, { total, perSecond: 1_000 });
    await waitFor(async () => (await readRecords(settings.records)).length > 800, { message: 'load to build up' });
    const victim = members[1];
    const owned = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions.filter((p) => p.owner === victim.memberId).map((p) => p.partition);
    const killedAt = Date.now();
    victim.signal('SIGKILL');
    await load.done;
    await waitFor(async () => analyze(await readRecords(settings.records), total).handled === total, { message: 'every message to be handled', timeoutMs: 20_000 });

    const records = await readRecords(settings.records);
    const { lost, duplicates, orderViolations } = analyze(records, total);
    expect(lost).toBe(0);
    expect(orderViolations).toEqual([]);
    // Duplicates are only what the killed member had handled without its acknowledgement landing.
    for (const copies of duplicates) {
      expect(copies[0].member).toBe('b');
      expect(copies[0].startedAt).toBeLessThanOrEqual(killedAt);
      expect(copies.slice(1).every((copy) => copy.member !== 'b')).toBe(true);
    }
    expect(duplicates.length).toBeLessThanOrEqual(owned.length * 5);
    for (const partition of owned) {
      const resumed = records.find((r) => r.partition === partition && r.member !== 'b' && r.startedAt > killedAt);
      expect(resumed, `partition ${partition} processed again`).toBeDefined();
      expect(resumed!.startedAt - killedAt).toBeLessThanOrEqual(sessionMs + 1_000);
    }
  });

  it('fences a member frozen past its session timeout: after SIGCONT it loses its partitions and never overlaps the new owner', async () => {
    const sessionMs = 1_000;
    const { brook, topic, settings } = await setup(sessionMs);
    const a = await startMember('a', settings);
    const b = await startMember('b', settings);
    await settled(brook, topic, [a, b]);
    const aOwned = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions.filter((p) => p.owner === a.memberId).map((p) => p.partition);

    const total = 3_000;
    const load = produceSteadily(brook, topic, { total, perSecond: 1_000 });
    await waitFor(async () => (await readRecords(settings.records)).length > 300, { message: 'load to build up' });
    const frozenAt = Date.now();
    a.signal('SIGSTOP');
    await waitFor(
      async () => {
        const records = await readRecords(settings.records);
        return aOwned.every((partition) => records.some((r) => r.partition === partition && r.member === 'b' && r.startedAt > frozenAt));
      },
      { message: 'b to take over the partitions of the frozen member', timeoutMs: 10_000 },
    );
    a.signal('SIGCONT');
    await waitFor(() => a.events.some((e) => e.type === 'lost' && (e.reason === 'expired' || e.reason === 'fenced')), { message: 'the thawed member to learn it lost its partitions' });
    await load.done;
    await waitFor(async () => analyze(await readRecords(settings.records), total).handled === total, { message: 'every message to be handled', timeoutMs: 20_000 });

    const records = await readRecords(settings.records);
    expect(analyze(records, total).lost).toBe(0);
    expect(analyze(records, total).orderViolations).toEqual([]);
    // No two members ever run a handler for the same partition at the same time. The one exception
    // a process freeze can create: a handler that had already started when the process was stopped
    // resumes after SIGCONT; its acknowledgement is refused and the new owner handles that message.
    const overlaps: string[] = [];
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const onPartition = records.filter((r) => r.partition === partition).sort((x, y) => x.startedAt - y.startedAt);
      for (let i = 0; i < onPartition.length; i++) {
        for (let j = i + 1; j < onPartition.length && onPartition[j].startedAt <= onPartition[i].endedAt; j++) {
          const [x, y] = [onPartition[i], onPartition[j]];
          if (x.member === y.member) continue;
          const frozenMidHandler = (r: typeof x) => r.member === 'a' && r.startedAt <= frozenAt;
          if (frozenMidHandler(x) || frozenMidHandler(y)) continue;
          overlaps.push(`partition ${partition}: ${x.member}@${x.offset} and ${y.member}@${y.offset}`);
        }
      }
    }
    expect(overlaps).toEqual([]);
    // Whatever the frozen member handled after SIGCONT without a valid lease was refused and handled again by b.
    const handledAfterFreezeByA = records.filter((r) => r.member === 'a' && r.startedAt > frozenAt && r.startedAt < frozenAt + sessionMs);
    expect(handledAfterFreezeByA).toEqual([]);
  });

  it('hands partitions over without a single duplicate on graceful stops and a rolling restart of every member', async () => {
    const { brook, topic, settings } = await setup(10_000);
    let members = [await startMember('a', settings), await startMember('b', settings), await startMember('c', settings)];
    await settled(brook, topic, members);
    const total = 4_000;
    const load = produceSteadily(brook, topic, { total, perSecond: 1_000 });
    for (const name of ['a', 'b', 'c']) {
      const leaving = members.find((m) => m.name === name)!;
      await leaving.stop();
      const replacement = await startMember(`${name}2`, settings);
      members = [...members.filter((m) => m !== leaving), replacement];
      await settled(brook, topic, members);
    }
    await load.done;
    await waitFor(async () => analyze(await readRecords(settings.records), total).handled === total, { message: 'every message to be handled', timeoutMs: 20_000 });
    const { lost, duplicates, orderViolations } = analyze(await readRecords(settings.records), total);
    expect({ lost, duplicates: duplicates.length, orderViolations }).toEqual({ lost: 0, duplicates: 0, orderViolations: [] });
  });
});
