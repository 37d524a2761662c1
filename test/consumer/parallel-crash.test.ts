import { describe, expect, inject, it } from 'vitest';
import type { Brook } from '@brook/broker';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
import { HandlerLog, type HandlerRun, keyOverlaps, memberOverlaps, tally } from '../support/handler-runs.js';
import { ioDelay, keyedMessages, sendAll, startParallelConsumer } from '../support/parallel-consumer.js';
import { MemberEventLog, startParallelMember, type ParallelMemberSettings } from '../support/parallel-members.js';
import { produceSteadily } from './load.js';

const PARTITIONS = 8;
const CONCURRENCY = 100;

/** Waits until the members with `memberIds` share every partition of `topic`. */
async function settled(brook: Brook, topic: string, memberIds: string[]) {
  const ids = new Set(memberIds);
  return waitFor(
    async () => {
      const description = await brook.admin().describeGroup({ group: 'billing', topic });
      const ok =
        description.members.length === ids.size &&
        description.members.every((m) => ids.has(m.memberId) && m.partitions.length > 0) &&
        description.partitions.every((p) => p.owner !== null && ids.has(p.owner));
      return ok ? description : undefined;
    },
    { message: `${ids.size} members to share the partitions`, timeoutMs: 15_000 },
  );
}

describe('parallel modes across member crashes and stops', () => {
  it.each(['key', 'none'] as const)(
    "with ordering '%s', a member SIGKILLed with ~100 handlers in flight loses nothing; only what it had not acknowledged runs again, no partition runs on two members at once, and with 'key' no key twice at once",
    async (ordering) => {
      const brook = createBrook();
      const topic = uniqueName('orders');
      await brook.admin().createTopic({ topic, partitions: PARTITIONS });
      const log = new MemberEventLog(`${brook.options.prefix}:events`);
      const settings: ParallelMemberSettings = {
        redisUrl: inject('redisUrl'),
        prefix: brook.options.prefix,
        topic,
        group: 'billing',
        events: log.key,
        ordering,
        concurrency: CONCURRENCY,
        sessionMs: 1_500,
        handlerMinMs: 80,
        handlerMaxMs: 120,
      };
      const [a, b] = await Promise.all([startParallelMember('a', settings), startParallelMember('b', settings)]);
      const { partitions } = await settled(brook, topic, [a.memberId, b.memberId]);
      const victimPartitions = partitions.filter((p) => p.owner === a.memberId).map((p) => p.partition);

      const total = 3_000;
      const load = produceSteadily(brook, topic, { total, perSecond: 2_000, keys: 400 });
      await waitFor(async () => (await log.inFlightOf('a')) >= 90, { message: 'the victim to have ~100 handlers in flight', timeoutMs: 15_000, intervalMs: 5 });
      await log.kill(a);
      await load.done;
      await waitFor(async () => tally((await log.runs()).runs, total).handled === total, { message: 'every message handled', timeoutMs: 20_000, intervalMs: 100 });

      const { runs, killedAt } = await log.runs();
      const kill = killedAt.get('a')!;
      const { lost, duplicates, orderViolations } = tally(runs, total);
      const inFlightAtKill = runs.filter((r) => r.member === 'a' && r.end === undefined);
      const duplicatedInFlight = duplicates.filter(([first]) => first.end === undefined).length;
      const duplicatedFinished = duplicates.length - duplicatedInFlight;
      const openUntilKilled = (run: HandlerRun) => killedAt.get(run.member) ?? Infinity;
      const overlaps = keyOverlaps(runs, openUntilKilled);
      const acrossMembers = memberOverlaps(runs, openUntilKilled);
      console.log(
        `SIGKILL under load, ordering '${ordering}': in flight at the kill ${inFlightAtKill.length}, lost ${lost}, duplicated ${duplicates.length} (${duplicatedInFlight} in flight, ${duplicatedFinished} finished but not acknowledged), per-key regressions ${orderViolations.length}, key overlaps ${overlaps.length}, partition runs overlapping across members ${acrossMembers.length}`,
      );

      expect(lost).toBe(0);
      expect(inFlightAtKill.length).toBeGreaterThanOrEqual(50);
      expect(inFlightAtKill.length).toBeLessThanOrEqual(CONCURRENCY);
      // Every duplicate is a message the victim had started and not acknowledged; the copy ran on b after the kill.
      for (const [first, ...copies] of duplicates) {
        expect(first.member).toBe('a');
        expect(first.start).toBeLessThan(kill);
        expect(copies.every((copy) => copy.member === 'b' && copy.start > kill)).toBe(true);
      }
      expect(duplicatedInFlight).toBe(inFlightAtKill.length);
      expect(duplicatedFinished).toBeLessThanOrEqual(CONCURRENCY);
      expect(acrossMembers).toEqual([]);
      if (ordering === 'key') {
        expect(orderViolations).toEqual([]);
        expect(overlaps).toEqual([]);
      }
      for (const partition of victimPartitions) {
        expect(runs.some((r) => r.partition === partition && r.member === 'b' && r.start > kill), `partition ${partition} resumed on b`).toBe(true);
      }
    },
  );

  it("with ordering 'key', a member joining mid-load takes partitions from one with ~100 handlers in flight without a duplicate or a key running twice at once", async () => {
    const brook = createBrook();
    const other = createBrook({ prefix: brook.options.prefix });
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    const log = new HandlerLog();
    const handler = () => ioDelay(20 + Math.floor(Math.random() * 40));
    await startParallelConsumer(brook, topic, log, { ordering: 'key', concurrency: CONCURRENCY, member: 'a' }, handler);
    const total = 4_000;
    await sendAll(brook, topic, keyedMessages(total, 400));
    await waitFor(() => log.inFlightOf('a') >= 80, { message: 'a to have handlers in flight', intervalMs: 2 });
    const inFlightAtJoin = log.inFlightOf('a');
    await startParallelConsumer(other, topic, log, { ordering: 'key', concurrency: CONCURRENCY, member: 'b' }, handler);
    await waitFor(() => tally(log.runs, total).handled === total, { message: 'every message handled', timeoutMs: 20_000 });

    const { lost, duplicates, orderViolations } = tally(log.runs, total);
    const overlaps = keyOverlaps(log.runs);
    const acrossMembers = memberOverlaps(log.runs);
    const byB = log.runs.filter((r) => r.member === 'b').length;
    console.log(
      `join mid-load, ordering 'key': a in flight at the join ${inFlightAtJoin}, lost ${lost}, duplicated ${duplicates.length}, per-key regressions ${orderViolations.length}, key overlaps ${overlaps.length}, partition runs overlapping across members ${acrossMembers.length}, handled by b ${byB}`,
    );
    expect({ lost, duplicates: duplicates.length, orderViolations, overlaps, acrossMembers }).toEqual({ lost: 0, duplicates: 0, orderViolations: [], overlaps: [], acrossMembers: [] });
    expect(byB).toBeGreaterThan(0);
  });

  it.each(['key', 'none'] as const)(
    "with ordering '%s', a member stopped gracefully with handlers in flight finishes them first; the member taking over duplicates nothing",
    async (ordering) => {
      const brook = createBrook();
      const other = createBrook({ prefix: brook.options.prefix });
      const topic = uniqueName('orders');
      await brook.admin().createTopic({ topic, partitions: PARTITIONS });
      const log = new HandlerLog();
      const handler = () => ioDelay(20 + Math.floor(Math.random() * 40));
      const a = await startParallelConsumer(brook, topic, log, { ordering, concurrency: CONCURRENCY, member: 'a' }, handler);
      const b = await startParallelConsumer(other, topic, log, { ordering, concurrency: CONCURRENCY, member: 'b' }, handler);
      await settled(brook, topic, [a.memberId, b.memberId]);

      const total = 4_000;
      await sendAll(brook, topic, keyedMessages(total, 400));
      await waitFor(() => log.inFlightOf('a') >= 80, { message: 'a to have handlers in flight', intervalMs: 2 });
      const inFlightAtStop = log.inFlightOf('a');
      await a.stop();
      const stoppedAt = log.now();
      expect(log.inFlightOf('a'), 'handlers of a still running after stop() resolved').toBe(0);
      await waitFor(() => tally(log.runs, total).handled === total, { message: 'every message handled', timeoutMs: 20_000 });

      const { lost, duplicates, orderViolations } = tally(log.runs, total);
      const overlaps = keyOverlaps(log.runs);
      const startedByAAfterStop = log.runs.filter((r) => r.member === 'a' && r.start > stoppedAt).length;
      const acrossMembers = memberOverlaps(log.runs);
      console.log(
        `graceful stop, ordering '${ordering}': in flight at stop ${inFlightAtStop}, lost ${lost}, duplicated ${duplicates.length}, per-key regressions ${orderViolations.length}, key overlaps ${overlaps.length}, partition runs overlapping across members ${acrossMembers.length}, handled by a/b ${log.runs.filter((r) => r.member === 'a').length}/${log.runs.filter((r) => r.member === 'b').length}`,
      );
      expect({ lost, duplicates: duplicates.length, startedByAAfterStop, acrossMembers }).toEqual({ lost: 0, duplicates: 0, startedByAAfterStop: 0, acrossMembers: [] });
      if (ordering === 'key') expect({ orderViolations, overlaps }).toEqual({ orderViolations: [], overlaps: [] });
    },
  );
});
