import { afterEach, describe, expect, inject, it } from 'vitest';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';
import { check, printSummary } from './support/checker.js';
import { HistoryRecorder, RedisHistory, type ProducedRecord, type RunRecord } from './support/history.js';
import { startProbeMember, type ProbeTopic } from './support/probe-members.js';
import { readDeadLetters, readLogs, Workload, type WorkloadValue } from './support/workload.js';

const ATTEMPTS = 3;
const PARTITIONS = 2;
const BACKLOG = 1_200;
const BLOCKING_MESSAGES = 300;
/** Fails more often than there are attempts: dead-lettered. */
const POISON = 5;

const servers: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** How many attempts of a message fail: many once or twice, a few every time. */
function failuresOf(n: number): number {
  if (n % 97 === 13) return POISON;
  if (n % 7 === 2) return 2;
  if (n % 4 === 1) return 1;
  return 0;
}

/** What the runs of one message should look like, and what they do look like. */
interface AttemptCheck {
  problems: string[];
  /** Attempts run again by the survivor after the killed member had run them (their outcome was lost with it). */
  repeats: RunRecord[];
}

/**
 * Checks one message's runs (by start time): attempt numbers go 1, 2, 3, … one per failed run, it
 * succeeds on attempt `fail + 1` (or, failing every attempt, has exactly `attempts` runs and no
 * success), and nothing runs after the success. The one allowed exception is an attempt the killed
 * member ran before the kill and the survivor ran again after it.
 */
function checkAttempts(runs: RunRecord[], fail: number, killed: string, killAt: number): AttemptCheck {
  const problems: string[] = [];
  const repeats: RunRecord[] = [];
  let expected = 1;
  let done = false;
  let previous: RunRecord | undefined;
  for (const run of runs) {
    const repeat =
      previous !== undefined && previous.member === killed && previous.startedAt <= killAt && run.member !== killed && run.startedAt > killAt && run.attempt === previous.attempt;
    if (repeat) repeats.push(previous!);
    else if (done) problems.push(`run of attempt ${run.attempt} after the message succeeded`);
    else if (run.attempt !== expected) problems.push(`attempt ${run.attempt} where ${expected} was due`);
    if (run.outcome === 'ok') done = true;
    else if (run.outcome === 'error') expected = run.attempt + 1;
    // An aborted run (the lease was lost) is not counted: the attempt comes again.
    else expected = run.attempt;
    previous = run;
  }
  const succeeded = runs.some((run) => run.outcome === 'ok');
  if (fail < ATTEMPTS && (!succeeded || runs.length - repeats.length !== fail + 1)) problems.push(`${runs.length} runs, ${fail} failing: expected ${fail + 1}`);
  if (fail >= ATTEMPTS && (succeeded || runs.length - repeats.length !== ATTEMPTS)) problems.push(`${runs.length} runs, always failing: expected ${ATTEMPTS} and no success`);
  return { problems, repeats };
}

describe('retries under a backlog of slow messages', () => {
  it('handles every message once after its failures, with consecutive attempts, through a member crash', async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const brook = createBrook({ redis: server.url });
    const parked = uniqueName('orders');
    const inPlace = uniqueName('payments');
    const group = 'billing';
    for (const topic of [parked, inPlace]) await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    const histories = { [parked]: new HistoryRecorder(), [inPlace]: new HistoryRecorder() };
    const fails = new Map<string, number>();

    // The non-blocking topic: a message that fails gets a key of its own, since its retry comes
    // back out of order by design; the others keep per-key order.
    let n = 0;
    const parkedWorkload = new Workload(brook, parked, histories[parked]);
    await parkedWorkload.produce(BACKLOG, 'before-fault', (v): WorkloadValue => {
      const fail = failuresOf(n++);
      fails.set(`${parked}/${fail > 0 ? `retried-${n}#0` : v.uid}`, fail);
      return fail > 0 ? { uid: `retried-${n}#0`, key: `retried-${n}`, seq: 0, fail } : v;
    });
    // The blocking topic retries in place, so order holds for every key.
    n = 0;
    const inPlaceWorkload = new Workload(brook, inPlace, histories[inPlace]);
    await inPlaceWorkload.produce(BLOCKING_MESSAGES, 'before-fault', (v): WorkloadValue => {
      const fail = failuresOf(n++);
      fails.set(`${inPlace}/${v.uid}`, fail);
      return fail > 0 ? { ...v, fail } : v;
    });

    const records = `${brook.options.prefix}:runs`;
    const topics: ProbeTopic[] = [
      // A long enough backoff that the killed member still has retries parked when it dies.
      { topic: parked, retryMode: 'non-blocking', attempts: ATTEMPTS, backoffMs: 500 },
      { topic: inPlace, retryMode: 'blocking', attempts: ATTEMPTS, backoffMs: 50 },
    ];
    const settings = {
      deployment: server.url,
      recordUrl: inject('redisUrl'),
      records,
      prefix: brook.options.prefix,
      group,
      topics,
      consumer: { sessionTimeoutMs: 2_000, heartbeatIntervalMs: 100, maxWaitTimeMs: 1_000 },
      handlerMs: 15,
    };
    const members = await Promise.all([startProbeMember('a', settings), startProbeMember('b', settings)]);
    const runs = new RedisHistory(rawRedis(), records);
    const readRuns = async () => (await runs.read()).filter((r): r is RunRecord => r.kind === 'run');

    // Kill the member that has run most of the backlog, well before the backlog is through.
    const busiest = await waitFor(async () => {
      const parkedRuns = (await readRuns()).filter((r) => r.topic === parked);
      if (parkedRuns.length < BACKLOG * 0.4) return undefined;
      const byMember = (m: string) => parkedRuns.filter((r) => r.member === m).length;
      const candidate = members.reduce((a, b) => (byMember(a.memberId) >= byMember(b.memberId) ? a : b));
      // …and only while it has a parked retry it has not finished yet, so its death hands one over.
      const finished = new Set(parkedRuns.filter((r) => r.outcome === 'ok').map((r) => r.uid));
      const parkedNow = parkedRuns.some((r) => r.member === candidate.memberId && r.outcome === 'error' && !finished.has(r.uid));
      return parkedNow ? candidate : undefined;
    }, { message: '40% of the backlog to be run, with a retry parked', timeoutMs: 60_000, intervalMs: 20 });
    busiest.signal('SIGKILL');
    const killAt = Date.now();
    const survivor = members.find((m) => m !== busiest)!;

    const describeGroup = (topic: string) => brook.admin().describeGroup({ group, topic });
    await waitFor(async () => {
      for (const topic of [parked, inPlace]) {
        const { partitions } = await describeGroup(topic);
        if (!partitions.every((p) => p.lag === 0 && p.pending === 0 && p.retrying === 0)) return false;
      }
      return true;
    }, { message: 'both topics to be worked off, retries included', timeoutMs: 60_000, intervalMs: 100 });
    await survivor.stop();

    const allRuns = await readRuns();
    let repeated = 0;
    for (const topic of [parked, inPlace]) {
      const history = histories[topic];
      const deadLetters = await readDeadLetters(brook, topic, group);
      history.recordAll(allRuns.filter((r) => r.topic === topic));
      history.recordAll(deadLetters);
      history.recordAll(await readLogs(server.url, brook.options.prefix, topic, PARTITIONS));
      const result = check(history.entries, { mustSurvive: () => true, ordering: 'partition', inFlightAt: [killAt] });
      const mode = topic === parked ? 'non-blocking' : 'blocking';
      printSummary(`retries under backlog (${mode})`, result);

      const produced = history.entries.filter((e): e is ProducedRecord => e.kind === 'produced');
      const problems: string[] = [];
      const repeats: RunRecord[] = [];
      for (const { uid } of produced) {
        const own = allRuns.filter((r) => r.topic === topic && r.uid === uid).sort((a, b) => a.startedAt - b.startedAt);
        const checked = checkAttempts(own, fails.get(`${topic}/${uid}`)!, busiest.memberId, killAt);
        problems.push(...checked.problems.map((problem) => `${uid}: ${problem}`));
        repeats.push(...checked.repeats);
      }
      repeated += repeats.length;
      const handledUids = new Set(allRuns.filter((r) => r.topic === topic && r.outcome === 'ok').map((r) => r.uid));
      const deadLetteredUids = deadLetters.map((letter) => letter.uid);
      const poison = produced.filter((p) => fails.get(`${topic}/${p.uid}`)! >= ATTEMPTS).map((p) => p.uid);
      const retries = allRuns.filter((r) => r.topic === topic && r.attempt > 1).length;
      const oldestRepeat = Math.max(0, ...repeats.map((r) => killAt - r.endedAt));
      // Messages the killed member had started on (failed, parked, taken) that the survivor finished.
      const handedOver = new Set(
        allRuns.filter((r) => r.topic === topic && r.member === busiest.memberId && r.startedAt <= killAt && r.outcome !== 'ok').map((r) => r.uid),
      );
      for (const uid of handedOver) if (!allRuns.some((r) => r.uid === uid && r.topic === topic && r.member === survivor.memberId)) handedOver.delete(uid);
      console.log(
        `retries under backlog (${mode}): ${allRuns.filter((r) => r.topic === topic).length} runs, ${retries} of them retries; ` +
          `${handedOver.size} messages failed on the killed member and finished by the survivor; ${repeats.length} attempts repeated across the kill (ended up to ${oldestRepeat} ms before it); dead-lettered ${deadLetteredUids.length} of ${poison.length} poison; ` +
          `${problems.length} attempt problems${problems.length > 0 ? `: ${problems.slice(0, 10).join('; ')}` : ''}`,
      );

      expect(result.counts).toMatchObject({ lost: 0, unexplainedDuplicates: 0, reorderedPerKey: 0, duplicateAppends: 0, fencedButAccepted: 0, overlapping: 0 });
      expect(problems).toEqual([]);
      expect(deadLetteredUids.filter((uid) => handledUids.has(uid))).toEqual([]);
      expect([...deadLetteredUids].sort()).toEqual([...poison].sort());
      if (topic === parked) expect(handedOver.size).toBeGreaterThan(0);
    }
    console.log(`retries under backlog: member ${busiest.name} killed after ${allRuns.filter((r) => r.startedAt <= killAt).length} runs; ${repeated} attempts repeated`);
    expect(survivor.events.filter((e) => e.type === 'crash')).toEqual([]);
  });
});
