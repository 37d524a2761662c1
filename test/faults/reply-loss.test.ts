import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { RedisServer } from '../support/redis-server.js';
import { check, printSummary } from './support/checker.js';
import { HistoryRecorder, RedisHistory } from './support/history.js';
import { startFaultMember } from './support/members.js';
import { checkAttempts } from './support/scenario-attempts.js';
import { dropRepliesOf, ScriptClassifier, type ScriptKind } from './support/scenario-scripts.js';
import { readDeadLetters, readLogs, Workload, type WorkloadValue } from './support/workload.js';

const PARTITIONS = 2;
const ATTEMPTS = 3;
const DROPS = 3;

interface Case {
  kind: ScriptKind;
  mode: 'blocking' | 'non-blocking';
  /** Drop every n-th call (after the previous drop), so the members make progress between faults. @defaultValue 1 */
  every?: number;
  /** Arm the fault before the members start: the script runs when a partition is taken. */
  fromStart?: boolean;
}

const CASES: Case[] = [
  { kind: 'produce', mode: 'blocking', every: 2 },
  { kind: 'fetch', mode: 'non-blocking', every: 2 },
  { kind: 'ack', mode: 'blocking', every: 2 },
  { kind: 'claim', mode: 'non-blocking', fromStart: true },
  { kind: 'record-failure', mode: 'blocking' },
  { kind: 'schedule-retry', mode: 'non-blocking' },
  { kind: 'take-due', mode: 'non-blocking' },
  { kind: 'ack-delayed', mode: 'non-blocking' },
  { kind: 'dead-letter', mode: 'blocking' },
  { kind: 'dead-letter', mode: 'non-blocking' },
  { kind: 'renew-leases', mode: 'blocking', every: 3 },
  { kind: 'membership', mode: 'non-blocking', every: 3 },
  { kind: 'acquire-lease', mode: 'blocking', fromStart: true },
];

/**
 * Every 4th message fails once, every 7th always (and is dead-lettered after ATTEMPTS attempts).
 * A failing message gets a key of its own: non-blocking retries give up key order by design.
 */
function failures(): (v: WorkloadValue) => WorkloadValue {
  let n = 0;
  return (v) => {
    n += 1;
    if (n % 7 === 0) return { ...v, key: `poison/${v.uid}`, fail: 5 };
    if (n % 4 === 0) return { ...v, key: `retry/${v.uid}`, fail: 1 };
    return v;
  };
}

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server.stop();
});
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
});

describe('replies lost on every kind of command (the command ran; its reply and connection are gone)', () => {
  for (const { kind, mode, every = 1, fromStart = false } of CASES) {
    it(`${kind} (${mode} retries): loses nothing, appends and dead-letters once, numbers attempts without gaps, never runs a partition twice at once`, async () => {
      const proxy = await FaultProxy.start({ port: server.port });
      proxies.push(proxy);
      const admin = createBrook({ redis: server.url });
      const prefix = admin.options.prefix;
      const connection = { retries: 1_000, initialBackoffMs: 20, maxBackoffMs: 200 };
      const producing = createBrook({ redis: proxy.url, prefix, connection });
      const topic = uniqueName('orders');
      const group = 'billing';
      await admin.admin().createTopic({ topic, partitions: PARTITIONS });
      const scripts = new ScriptClassifier({ prefix, topic, partitions: PARTITIONS, group });
      const arm = () => dropRepliesOf(proxy, scripts.calls(kind), { max: DROPS, every });
      const armedEarly = fromStart ? arm() : undefined;
      const history = new HistoryRecorder();
      const records = `${prefix}:runs`;
      const settings = {
        redisUrl: proxy.url, recordUrl: inject('redisUrl'), records, prefix, topic, group,
        sessionMs: 3_000, attempts: ATTEMPTS, backoffMs: 100, retryMode: mode,
      };
      const members = await Promise.all([startFaultMember('a', settings), startFaultMember('b', settings)]);
      const drops = armedEarly ?? arm();

      const workload = new Workload(producing, topic, history, { keys: 4 });
      const failing = failures();
      for (let send = 0; send < 12; send++) expect(await workload.produce(4, 'during-fault', failing)).toBe(true);
      const finished = async () =>
        drops.instants.length === DROPS &&
        (await admin.admin().describeGroup({ group, topic })).partitions.every((p) => p.lag === 0 && p.pending === 0 && p.retrying === 0);
      await waitFor(finished, { message: `${DROPS} dropped ${kind} replies and the group to finish`, timeoutMs: 30_000, intervalMs: 50 });
      drops.disarm();
      const calls = proxy.seen.filter(scripts.calls(kind)).length;
      await Promise.all(members.map((member) => member.stop()));

      history.recordAll(await new RedisHistory(rawRedis(), records).read());
      history.recordAll(await readDeadLetters(admin, topic, group));
      history.recordAll(await readLogs(server.url, prefix, topic, PARTITIONS));
      // Fault instants: each dropped reply, and each moment a member put a partition in doubt over it
      // (a member learns of the closed connection a little after the proxy closed it).
      const faults = [...drops.instants, ...members.flatMap((m) => m.events.flatMap((e) => (e.type === 'lost' ? [e.at] : [])))];
      const result = check(history.entries, { mustSurvive: (p) => p.acknowledged, ordering: 'partition', inFlightAt: faults });
      printSummary(`reply loss: ${kind} (${mode})`, result);
      const attempts = checkAttempts(history.entries, faults, ATTEMPTS);
      console.log(
        `reply loss: ${kind} (${mode}): ${drops.instants.length} of ${calls} ${kind} replies dropped; attempt numbers skipped ${attempts.skipped.length}, ` +
          `repeated ${attempts.repeated.length} (across a fault ${attempts.repeatedInFlight.length}), beyond ${ATTEMPTS} ${attempts.beyondLimit.length}; ` +
          `dead-lettered twice ${attempts.deadLetteredTwice.length}`,
      );

      const unexplained = result.examples.duplicated.filter((d) => !d.inFlight);
      if (unexplained.length > 0 || attempts.repeated.length > 0) {
        console.log(`reply loss: ${kind} (${mode}): faults at ${JSON.stringify(faults)}; unexplained duplicates ${JSON.stringify(unexplained)}; repeated attempts ${JSON.stringify(attempts.repeated)}`);
        const uids = new Set([...unexplained.map((d) => d.uid), ...attempts.repeated.map((r) => r.uid)]);
        console.log(JSON.stringify(history.entries.filter((e) => e.kind === 'run' && uids.has(e.uid))));
      }
      expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
      expect(result.counts.deadLettered).toBe(Math.floor(48 / 7));
      expect({ skipped: attempts.skipped, repeated: attempts.repeated, beyondLimit: attempts.beyondLimit, deadLetteredTwice: attempts.deadLetteredTwice })
        .toEqual({ skipped: [], repeated: [], beyondLimit: [], deadLetteredTwice: [] });
    });
  }
});
