import { describe, expect, it } from 'vitest';
import { FencedError, type Brook, type ShareConsumer, type ShareMessagePayload } from '@brook/broker';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { gate, groupTotals, ioDelay, pendingRecords, startShareConsumer } from '../support/share-group.js';
import { anyOverlaps, lateAccepted, lockOverlaps, recordOf, ShareRunLog, tallyShare, type ShareRun } from '../support/share-runs.js';

async function setup(partitions: number, lockMs: number) {
  const brook = createBrook();
  const other = createBrook({ prefix: brook.options.prefix });
  const topic = uniqueName('orders.shipped');
  await brook.admin().createTopic({ topic, partitions });
  const group = uniqueName('mailers');
  const log = new ShareRunLog({ redis: rawRedis(), prefix: brook.options.prefix, topic, group, lockMs, key: `${brook.options.prefix}:runs` });
  return { brook, other, topic, group, log };
}

/** Until the group acknowledged `total` records and nothing is pending or unread. */
function settled(brook: Brook, group: string, topic: string, total: number, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const totals = await groupTotals(brook, group, topic);
      return totals.processed === total && totals.lag === 0 && totals.pending === 0 ? totals : undefined;
    },
    { message: `${total} records acknowledged`, timeoutMs, intervalMs: 50 },
  );
}

/** Resolves when `signal` aborts. */
const abortOf = (signal: AbortSignal) => new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

/** Works for `ms`, calling renewLock() every `everyMs`. */
async function workRenewing(payload: ShareMessagePayload, ms: number, everyMs: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    await ioDelay(Math.min(everyMs, until - performance.now()));
    await payload.renewLock();
  }
}

/** How late each run's signal aborted after its lock ran out on the Redis clock (negative: before). */
const abortLateness = (runs: readonly ShareRun[]) => runs.filter((run) => run.abortAt !== undefined).map((run) => run.abortAt! - run.lockEnd);

describe('share group acquisition locks', () => {
  it('never runs one record on two deliveries at once while both hold their lock, though slow handlers run past theirs', async () => {
    const lockMs = 1_500;
    const { brook, other, topic, group, log } = await setup(2, lockMs);
    // Every 6th record is slow on its first delivery (runs past its lock, ignoring its signal);
    // every 6th from 3 renews its lock and runs more than twice as long; the rest are quick.
    const kindOf = (n: number) => (n % 6 === 0 ? 'slow' : n % 6 === 3 ? 'renewing' : 'quick');
    const kinds = new Map<string, string>();
    const handler = async (payload: ShareMessagePayload) => {
      const { kind } = payload.message.value as { kind: string };
      kinds.set(recordOf({ partition: payload.partition, offset: payload.message.offset }), kind);
      if (kind === 'slow' && payload.deliveryCount === 1) await ioDelay(lockMs + 800);
      else if (kind === 'renewing') await workRenewing(payload, 2 * lockMs + 500, 300);
      else await ioDelay(5 + Math.floor(Math.random() * 10));
    };
    // Enough handler slots that a record acquired again starts at once, while its first run goes on.
    await startShareConsumer(brook, { group, topic, member: 'a', log, acquisitionLockMs: lockMs, concurrency: 30, handler });
    await startShareConsumer(other, { group, topic, member: 'b', log, acquisitionLockMs: lockMs, concurrency: 30, handler });

    const total = 60;
    await brook.producer().send({ topic, messages: Array.from({ length: total }, (_, n) => ({ key: `order-${n}`, value: { n, kind: kindOf(n) } })) });
    await waitFor(async () => tallyShare((await log.runs()).runs, total).handled === total, { message: 'every record handled', timeoutMs: 20_000, intervalMs: 50 });
    await settled(brook, group, topic, total);
    // The slow first runs return after their lock ran out; wait for them and their 'lock.lost'.
    await waitFor(
      async () => {
        const { runs } = await log.runs();
        return runs.every((run) => run.end !== undefined) && runs.filter((run) => run.lockLost).length >= total / 6;
      },
      { message: 'every run to end and each slow first run to report lock.lost' },
    ).catch(() => undefined);

    const { runs } = await log.runs();
    const { lost, duplicates, byRecord } = tallyShare(runs, total);
    const withinLock = lockOverlaps(runs);
    const overlapping = anyOverlaps(runs);
    const lateness = abortLateness(runs);
    console.log(
      `lock overlap check, ${total} records (10 slow, 10 renewing), lock ${lockMs} ms: runs ${runs.length}, lost ${lost}, duplicated ${duplicates.length}, runs of one record overlapping ${overlapping}, overlapping while both held the lock ${withinLock.length}, finished past the lock and accepted ${lateAccepted(runs).length}, signals aborted relative to the lock's end on the Redis clock: ${lateness.map(Math.round).join(', ')} ms`,
    );

    expect(lost).toBe(0);
    expect(withinLock).toEqual([]);
    expect(lateAccepted(runs)).toEqual([]);
    expect(runs.every((run) => run.heldAtStart)).toBe(true);
    // The check has teeth: each slow record's next delivery started while its first run still went on.
    expect(overlapping).toBeGreaterThanOrEqual(10);
    for (const [record, list] of byRecord) {
      const kind = kinds.get(record);
      const shape = list.map((run) => [run.delivery, run.lockLost]);
      if (kind === 'slow') expect(shape, `slow record ${record}`).toEqual([[1, true], [2, false]]);
      else expect(shape, `${kind} record ${record}`).toEqual([[1, false]]);
    }
  });

  it('renewLock() keeps a record with its member past acquisitionLockMs; a handler that does not renew sees its signal aborted, lock.lost is emitted and the record is delivered again', async () => {
    const lockMs = 1_000;
    const { brook, other, topic, group, log } = await setup(1, lockMs);
    const lockLost: Array<{ member: string; offset: number; deliveryCount: number }> = [];
    const renewAfterAbort: unknown[] = [];
    const handler = async (payload: ShareMessagePayload) => {
      const { kind } = payload.message.value as { kind: string };
      if (kind === 'renewing') return workRenewing(payload, 3 * lockMs, 250);
      if (kind === 'stuck' && payload.deliveryCount === 1) {
        await abortOf(payload.signal);
        renewAfterAbort.push(await payload.renewLock().then(() => 'renewed', (error: unknown) => error));
      }
    };
    for (const [client, member] of [[brook, 'a'], [other, 'b']] as const) {
      const prepare = (consumer: ShareConsumer) => consumer.on('lock.lost', ({ offset, deliveryCount }) => lockLost.push({ member, offset, deliveryCount }));
      await startShareConsumer(client, { group, topic, member, log, acquisitionLockMs: lockMs, concurrency: 4, handler, prepare });
    }
    await brook.producer().send({ topic, messages: [{ key: 'long', value: { kind: 'renewing' } }, { key: 'stuck', value: { kind: 'stuck' } }] });
    await settled(brook, group, topic, 2);
    await waitFor(
      async () => {
        const { runs } = await log.runs();
        return runs.length === 3 && runs.every((run) => run.end !== undefined) && runs.some((run) => run.lockLost);
      },
      { message: "every run to end and the stuck one's lock.lost" },
    ).catch(() => undefined);

    const { runs } = await log.runs();
    const renewing = runs.filter((run) => run.offset === 0);
    const stuck = runs.filter((run) => run.offset === 1);
    const [lateness] = abortLateness(stuck);
    console.log(
      `renewLock: the renewing run took ${renewing[0].end! - renewing[0].start} ms with a ${lockMs} ms lock, runs ${renewing.length}; the stuck run's signal aborted ${lateness} ms ${lateness < 0 ? 'before' : 'after'} its lock ran out on the Redis clock, redelivered ${stuck[1].start - stuck[0].lockEnd} ms after it`,
    );

    expect(renewing).toHaveLength(1);
    expect(renewing[0]).toMatchObject({ delivery: 1, heldAtStart: true, lockLost: false, failed: false });
    expect(renewing[0].end! - renewing[0].start).toBeGreaterThanOrEqual(3 * lockMs - 5);
    // It finished within its renewed lock.
    expect(renewing[0].end!).toBeLessThan(renewing[0].lockEnd);

    expect(stuck.map((run) => run.delivery)).toEqual([1, 2]);
    expect(stuck[0]).toMatchObject({ heldAtStart: true, lockLost: true, abortedAtEnd: true });
    expect(stuck[0].abortAt).toBeDefined();
    expect(stuck[1]).toMatchObject({ heldAtStart: true, lockLost: false, failed: false });
    expect(stuck[1].start).toBeGreaterThanOrEqual(stuck[0].lockEnd);
    expect(lockLost).toEqual([{ member: stuck[0].member, offset: 1, deliveryCount: 1 }]);
    expect(renewAfterAbort).toHaveLength(1);
    expect(renewAfterAbort[0]).toBeInstanceOf(FencedError);
    expect(lockOverlaps(runs)).toEqual([]);
  });

  it('stop() releases the records it had not started so another member gets them at once, and finishes the ones in flight', async () => {
    const lockMs = 10_000;
    const { brook, other, topic, group, log } = await setup(1, lockMs);
    const total = 12;
    await brook.producer().send({ topic, messages: Array.from({ length: total }, (_, n) => ({ key: `order-${n}`, value: { n } })) });

    // a holds 2 × concurrency records: 2 running (held at the gate), 2 waiting for a slot.
    const aInFlight = gate();
    const a = await startShareConsumer(brook, { group, topic, member: 'a', log, acquisitionLockMs: lockMs, concurrency: 2, handler: () => aInFlight.opened });
    await waitFor(async () => (await log.inFlightOf('a')) === 2 && a.acquired === 4, { message: 'a to run 2 records and hold 2 more' });
    const heldByA = await pendingRecords(rawRedis(), brook.options.prefix, topic, 1, group, a.memberId);
    expect(heldByA).toHaveLength(4);

    const b = await startShareConsumer(other, { group, topic, member: 'b', log, acquisitionLockMs: lockMs, concurrency: 4, handler: () => ioDelay(2) });
    await waitFor(async () => (await log.runs()).runs.filter((run) => run.member === 'b' && run.end !== undefined).length === total - 4, { message: 'b to handle the records a does not hold' });

    const startedByAAtStop = (await log.runs()).runs.filter((run) => run.member === 'a').map((run) => run.offset);
    const notStarted = heldByA.map((r) => r.offset).filter((offset) => !startedByAAtStop.includes(offset));
    expect(notStarted).toHaveLength(2);
    const stopCalledAt = performance.now();
    let stopResolvedAt: number | undefined;
    const stopping = a.stop().then(() => (stopResolvedAt = performance.now()));
    try {
      // "At once": well within a quarter of the lock; after that, look at what b got.
      const releasedToB = async () => (await log.runs()).runs.filter((run) => run.member === 'b' && run.delivery === 2 && run.end !== undefined);
      await waitFor(async () => (await releasedToB()).length === notStarted.length, { message: "b to handle the records a released", timeoutMs: lockMs / 4 }).catch(() => undefined);
      const releasedAfterMs = performance.now() - stopCalledAt;
      const released = await releasedToB();
      const pendingWithA = await pendingRecords(rawRedis(), brook.options.prefix, topic, 1, group, a.memberId);
      console.log(
        `stop(): of a's ${notStarted.length} unstarted records, b handled ${released.length} within ${Math.round(releasedAfterMs)} ms (lock ${lockMs} ms); still pending with a: ${pendingWithA.map((r) => `offset ${r.offset}${notStarted.includes(r.offset) ? ' (not started)' : ' (in flight)'}`).join(', ')}`,
      );
      expect(released.map((run) => run.offset).sort(), "a's unstarted records, redelivered to b before a quarter of the lock passed").toEqual(notStarted.sort());
      expect(stopResolvedAt, 'stop() resolved while its handlers still ran').toBeUndefined();
    } finally {
      aInFlight.open();
    }
    await stopping;
    const totals = await settled(brook, group, topic, total);

    const { runs } = await log.runs();
    const startedByA = runs.filter((run) => run.member === 'a');
    console.log(`stop(): a's in-flight runs ${startedByA.length}, finished and acknowledged; stop() took ${Math.round(stopResolvedAt! - stopCalledAt)} ms`);
    expect(startedByA.map((run) => run.offset).sort()).toEqual(startedByAAtStop.sort());
    expect(startedByA.every((run) => run.end !== undefined && run.end <= run.lockEnd && !run.failed && !run.lockLost)).toBe(true);
    expect(tallyShare(runs, total).duplicates).toEqual([]);
    expect(totals.processed).toBe(total);
    expect(b.acquired).toBe(0);
  });

  it("aborts a handler's signal when its lock runs out, not up to a sweep interval later while another member already runs the record", async () => {
    const lockMs = 1_000;
    // A timer's delay plus logging the abort through Redis, on a busy 2-core machine.
    const toleranceMs = 100;
    const { brook, other, topic, group, log } = await setup(1, lockMs);
    // The first delivery of every record waits for its signal and never renews; later ones are quick.
    const handler = async (payload: ShareMessagePayload) => {
      if (payload.deliveryCount === 1) await abortOf(payload.signal);
    };
    // Members that look for expired locks every few ms, so a record is taken again as soon as Redis frees it.
    for (const [client, member] of [[brook, 'a'], [other, 'b']] as const) {
      await startShareConsumer(client, { group, topic, member, log, acquisitionLockMs: lockMs, pollIntervalMs: 5, concurrency: 20, handler });
    }
    // Records paced ~30 ms apart (a load, not a wait), so their locks run out at moments spread over
    // more than the 250 ms a sweep interval may add.
    const total = 12;
    const producer = brook.producer();
    for (let n = 0; n < total; n++) await Promise.all([producer.send({ topic, messages: [{ key: `order-${n}`, value: { n } }] }), ioDelay(30)]);
    await settled(brook, group, topic, total);
    // Every first run returns once its signal aborted.
    await waitFor(async () => (await log.runs()).runs.filter((run) => run.end !== undefined).length === 2 * total, { message: 'every run to end' });

    const { runs } = await log.runs();
    const byRecord = new Map<number, ShareRun[]>();
    for (const run of runs) byRecord.set(run.offset, [...(byRecord.get(run.offset) ?? []), run]);
    const firsts = [...byRecord.values()].map(([first]) => first);
    const seconds = [...byRecord.values()].map(([, next]) => next);
    const lateness = firsts.map((first) => (first.abortAt ?? Infinity) - first.lockEnd);
    const afterNextStarted = [...byRecord.values()].filter(([first, next]) => next !== undefined && (first.abortIndex ?? Infinity) > next.startIndex).length;
    console.log(
      `signal vs lock, lock ${lockMs} ms: signals aborted ${lateness.map(Math.round).join(', ')} ms after the lock ran out on the Redis clock; the next delivery started ${seconds.map((next, i) => next.start - firsts[i].lockEnd).join(', ')} ms after it; aborted after the next delivery had started: ${afterNextStarted} of ${total}`,
    );
    expect([...byRecord.values()].map((list) => list.map((run) => run.delivery))).toEqual(Array.from({ length: total }, () => [1, 2]));
    expect(firsts.filter((_, i) => lateness[i] > toleranceMs).map((first, i) => `offset ${first.offset}: aborted ${lateness[i]} ms after its lock ran out`)).toEqual([]);
  });

  it('does not let a member configured with a shorter acquisitionLockMs take records another member still holds under its lock', async () => {
    const { brook, other, topic, group, log } = await setup(1, 10_000);
    // a holds its record 1.5 s under a 10 s lock, then succeeds.
    const a = await startShareConsumer(brook, { group, topic, member: 'a', log, acquisitionLockMs: 10_000, handler: () => ioDelay(1_500) });
    await brook.producer().send({ topic, messages: [{ key: 'order-1', value: { n: 1 } }] });
    await waitFor(async () => (await log.inFlightOf('a')) === 1, { message: 'a to run the record' });

    // b is the same group with a 200 ms lock: either it is refused, or it leaves a's record alone.
    const refused = await startShareConsumer(other, { group, topic, member: 'b', log, acquisitionLockMs: 200, pollIntervalMs: 5 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await waitFor(async () => (await log.runs()).runs.some((run) => run.member === 'a' && run.end !== undefined), { message: "a's run to end" });
    await waitFor(async () => (await groupTotals(brook, group, topic)).pending === 0 && a.acquired === 0, { message: 'the record to be settled' });

    const { runs } = await log.runs();
    const ranOnB = runs.filter((run) => run.member === 'b');
    const onA = runs.find((run) => run.member === 'a')!;
    console.log(
      `mismatched locks (a 10,000 ms, b 200 ms): b ${refused === undefined ? 'joined' : `was refused: ${(refused as Error).message}`}; b ran a's record ${ranOnB.length} time(s), ${ranOnB.map((run) => run.start - onA.start).join(', ')} ms after a started it; a's run took ${onA.end! - onA.start} ms and got lock.lost ${onA.lockLost}`,
    );
    if (refused !== undefined) expect((refused as Error).message).toMatch(/acquisitionLockMs/);
    else expect(ranOnB.map((run) => `b ran offset ${run.offset} (delivery ${run.delivery}) ${run.start - runs[0].start} ms after a started it`)).toEqual([]);
  });
});
