import { describe, expect, inject, it } from 'vitest';
import type { Brook, ShareMessagePayload } from '@brook/broker';
import { produceSteadily } from '../consumer/load.js';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { gate, groupTotals, ioDelay, pendingRecords, startShareConsumer } from '../support/share-group.js';
import { startShareMember, type ShareMemberSettings } from '../support/share-members.js';
import { lateAccepted, lockOverlaps, recordOf, ShareRunLog, tallyShare } from '../support/share-runs.js';

async function setup(partitions: number, lockMs: number) {
  const brook = createBrook();
  const topic = uniqueName('orders.shipped');
  await brook.admin().createTopic({ topic, partitions });
  const group = uniqueName('mailers');
  const key = `${brook.options.prefix}:runs`;
  const log = new ShareRunLog({ redis: rawRedis(), prefix: brook.options.prefix, topic, group, lockMs, key });
  const settings: ShareMemberSettings = { redisUrl: inject('redisUrl'), prefix: brook.options.prefix, topic, group, events: key, lockMs };
  return { brook, topic, group, log, settings };
}

/** Until the group acknowledged `total` records and nothing is pending or unread. */
function settled(brook: Brook, group: string, topic: string, total: number) {
  return waitFor(
    async () => {
      const totals = await groupTotals(brook, group, topic);
      return totals.processed === total && totals.lag === 0 && totals.pending === 0 ? totals : undefined;
    },
    { message: `${total} records acknowledged`, timeoutMs: 15_000, intervalMs: 50 },
  );
}

describe('share group members that freeze or crash', () => {
  it("hands a frozen member's records to another member after the lock with deliveryCount 2; after SIGCONT its late results are not committed and nothing is lost", async () => {
    const lockMs = 1_500;
    const { brook, topic, group, log, settings } = await setup(2, lockMs);
    const total = 30;
    await brook.producer().send({ topic, messages: Array.from({ length: total }, (_, n) => ({ key: `order-${n}`, value: { n } })) });

    // a runs 4 handlers of 1 s each (ignoring their signal) and holds 4 more records; it is frozen mid-handler.
    const a = await startShareMember('a', { ...settings, concurrency: 4, handlerMinMs: 1_000 });
    await waitFor(async () => (await log.inFlightOf('a')) === 4, { message: 'a to run 4 handlers', intervalMs: 5 });
    a.signal('SIGSTOP');
    await log.mark('frozen', 'a');
    const heldByA = await pendingRecords(rawRedis(), brook.options.prefix, topic, 2, group, a.memberId);
    const heldIds = new Set(heldByA.map(recordOf));
    const runningOnA = (await log.runs()).runs.filter((run) => run.member === 'a' && run.end === undefined);
    expect(runningOnA).toHaveLength(4);
    expect(heldByA.length).toBeGreaterThanOrEqual(4);

    // b handles everything else at once; a's records reach it after their lock, and it keeps them
    // (renewing) until a's late results are in.
    const bHolds = gate();
    const handler = async (payload: ShareMessagePayload) => {
      if (!heldIds.has(recordOf({ partition: payload.partition, offset: payload.message.offset }))) return ioDelay(2);
      let opened = false;
      void bHolds.opened.then(() => (opened = true));
      while (!opened) {
        await Promise.race([bHolds.opened, ioDelay(250)]);
        await payload.renewLock();
      }
    };
    const b = await startShareConsumer(createBrook({ prefix: brook.options.prefix }), { group, topic, member: 'b', log, acquisitionLockMs: lockMs, concurrency: 20, handler });
    try {
      await waitFor(async () => (await log.runs()).runs.filter((run) => run.member === 'b' && heldIds.has(recordOf(run))).length === heldByA.length, {
        message: "b to start every record a held",
        timeoutMs: 15_000,
      });

      a.signal('SIGCONT');
      await log.mark('thawed', 'a');
      await waitFor(async () => (await log.runs()).runs.filter((run) => run.member === 'a' && run.end !== undefined).length === runningOnA.length, { message: "a's late handlers to return" });
      await waitFor(async () => (await a.acquired()) === 0, { message: 'a to drop what it held' });
      await waitFor(async () => (await log.runs()).runs.filter((run) => run.member === 'a' && run.lockLost).length === runningOnA.length, { message: "a's lock.lost for each late run" }).catch(() => undefined);

      // a's late results must not have been committed: each record it held is still pending with b, from delivery 2.
      const pendingNow = await pendingRecords(rawRedis(), brook.options.prefix, topic, 2, group);
      const withB = new Set(pendingNow.filter((r) => r.owner === b.memberId && r.deliveries === 2).map(recordOf));
      const fencedButAccepted = heldByA.filter((r) => !withB.has(recordOf(r))).length;
      const { runs } = await log.runs();
      const lateOnA = runs.filter((run) => run.member === 'a');
      const toB = runs.filter((run) => run.member === 'b' && heldIds.has(recordOf(run)));
      const frozenIndex = (await log.events()).findIndex((event) => event.e === 'frozen');
      console.log(
        `frozen member: held at the freeze ${heldByA.length} (running ${runningOnA.length}), redelivered to b with deliveryCount 2: ${toB.filter((r) => r.delivery === 2).length}, late results on a ${lateOnA.length} (signal aborted at return ${lateOnA.filter((r) => r.abortedAtEnd).length}, lock.lost ${lateOnA.filter((r) => r.lockLost).length}), fenced-but-accepted ${fencedButAccepted}, runs a started after the freeze ${lateOnA.filter((r) => r.startIndex > frozenIndex).length}`,
      );
      expect(fencedButAccepted).toBe(0);
      expect(toB.map((run) => run.delivery)).toEqual(heldByA.map(() => 2));
      expect(lateOnA.every((run) => run.end! > run.lockEnd && run.lockLost)).toBe(true);
      expect(lateAccepted(runs)).toEqual([]);
      expect(lateOnA.every((run) => run.startIndex < frozenIndex)).toBe(true);
      expect(a.events.filter((event) => event.type === 'lock.lost')).toHaveLength(runningOnA.length);
    } finally {
      bHolds.open();
    }

    await settled(brook, group, topic, total);
    const { runs } = await log.runs();
    const { lost, duplicates } = tallyShare(runs, total);
    const overlaps = lockOverlaps(runs);
    console.log(`frozen member: lost ${lost}, duplicated ${duplicates.length}, overlapping runs within their locks ${overlaps.length}, fenced-but-accepted 0`);
    expect({ lost, overlaps }).toEqual({ lost: 0, overlaps: [] });
    // Only what a was running when it froze ran twice.
    expect(duplicates.map(([first]) => recordOf(first)).sort()).toEqual(runningOnA.map(recordOf).sort());
    expect(a.events.filter((event) => event.type === 'crash')).toEqual([]);
  });

  it('loses nothing when one of three member processes is SIGKILLed under load; only records it held run again', async () => {
    const lockMs = 2_000;
    const { brook, topic, group, log, settings } = await setup(4, lockMs);
    const member = { ...settings, concurrency: 20, handlerMinMs: 5, handlerMaxMs: 15 };
    const [a, victim, c] = await Promise.all([startShareMember('a', member), startShareMember('b', member), startShareMember('c', member)]);

    const total = 1_000;
    const load = produceSteadily(brook, topic, { total, perSecond: 1_500 });
    await waitFor(
      async () => {
        const ended = (await log.runs()).runs.filter((run) => run.end !== undefined).length;
        return ended >= 200 && (await log.inFlightOf('b')) >= 5;
      },
      { message: 'load to build up with handlers in flight on b', timeoutMs: 15_000, intervalMs: 5 },
    );
    victim.signal('SIGKILL');
    await victim.exited;
    await log.mark('killed', 'b');
    const heldAtKill = await pendingRecords(rawRedis(), brook.options.prefix, topic, 4, group, victim.memberId);
    const heldIds = new Set(heldAtKill.map(recordOf));
    await load.done;
    await waitFor(async () => tallyShare((await log.runs()).runs, total).handled === total, { message: 'every record handled', timeoutMs: 20_000, intervalMs: 100 });
    const totals = await settled(brook, group, topic, total);

    const { runs } = await log.runs();
    const killIndex = (await log.events()).findIndex((event) => event.e === 'killed');
    const { lost, duplicates } = tallyShare(runs, total);
    const inFlightAtKill = runs.filter((run) => run.member === 'b' && run.end === undefined);
    const overlaps = lockOverlaps(runs);
    const fencedButAccepted = lateAccepted(runs);
    const redelivered = runs.filter((run) => run.member !== 'b' && heldIds.has(recordOf(run)));
    console.log(
      `SIGKILL of 1 of 3 share members under load (${total} records, concurrency 20, lock ${lockMs} ms): in flight at the kill ${inFlightAtKill.length}, held at the kill ${heldAtKill.length}, lost ${lost}, duplicated ${duplicates.length}, overlapping runs within their locks ${overlaps.length}, fenced-but-accepted ${fencedButAccepted.length}, handled by a/b/c ${['a', 'b', 'c'].map((m) => runs.filter((run) => run.member === m).length).join('/')}`,
    );

    expect({ lost, overlaps, fencedButAccepted }).toEqual({ lost: 0, overlaps: [], fencedButAccepted: [] });
    expect(totals.processed).toBe(total);
    // The kill hit b while it held records (in flight, waiting for a slot, or handled but not yet acknowledged).
    expect(heldAtKill.length).toBeGreaterThan(0);
    expect(heldAtKill.length).toBeLessThanOrEqual(2 * member.concurrency);
    // Every record b held is delivered again, to a or c, after the kill, from delivery 2.
    expect(new Set(redelivered.map(recordOf))).toEqual(heldIds);
    expect(redelivered.every((run) => run.startIndex > killIndex && run.delivery >= 2)).toBe(true);
    // Duplicates are only records b held: its run before the kill, the others' after.
    for (const [first, ...copies] of duplicates) {
      expect(heldIds.has(recordOf(first)), `duplicate ${recordOf(first)} was held by b`).toBe(true);
      expect(first.member).toBe('b');
      expect(first.startIndex).toBeLessThan(killIndex);
      expect(copies.every((copy) => copy.member !== 'b' && copy.startIndex > killIndex)).toBe(true);
    }
    expect(duplicates.length).toBeLessThanOrEqual(heldAtKill.length);
    for (const survivor of [a, c]) expect(survivor.events.filter((event) => event.type === 'crash')).toEqual([]);
  });
});
