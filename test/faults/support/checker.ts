/**
 * Checks a recorded fault-scenario history against the guarantees of ARCHITECTURE.md: nothing
 * lost, duplicates only for what was in flight, per-key order, exclusive ownership, fencing. Pure
 * functions over the records of `history.ts`; no Redis.
 *
 * A message is identified by its `uid` everywhere, never by offset: a Redis rollback can hand the
 * same offset to another message.
 */
import type { HistoryEntry, LogRecord, ProducedRecord, RunRecord } from './history.js';

/** How many examples of each anomaly a {@link CheckResult} keeps. */
export const EXAMPLE_LIMIT = 10;

/** What the check expects of a scenario. */
export interface CheckOptions {
  /** Which produced messages must not be lost, e.g. acknowledged with acks 'all', or produced after the fault. */
  mustSurvive: (produced: ProducedRecord) => boolean;
  /**
   * The subscription's ordering, which says which runs must not overlap: 'partition' — runs of one
   * topic partition; 'key' — runs of one key of a topic; 'none' — runs of one message.
   */
  ordering: 'partition' | 'key' | 'none';
  /** Instants of the injected faults (`Date.now()`); duplicates across one of them are "in flight". */
  inFlightAt?: readonly number[];
}

/** The figures of a check. Messages are counted by distinct uid. */
export interface CheckCounts {
  produced: number;
  /** Produced messages for which `mustSurvive` holds. */
  mustSurvive: number;
  /** Messages with at least one run of outcome 'ok'. */
  handled: number;
  deadLettered: number;
  /** Messages that must survive, with no 'ok' run and not dead-lettered. */
  lost: number;
  /** Messages with more than one 'ok' run: `inFlightDuplicates + unexplainedDuplicates`. */
  duplicated: number;
  /** Duplicates whose first 'ok' run started at or before a fault instant and the next run after it. */
  inFlightDuplicates: number;
  unexplainedDuplicates: number;
  /** Messages whose first 'ok' run started after the first 'ok' run of a higher seq of the same key. */
  reorderedPerKey: number;
  /** Log entries repeating a seq already in the log for that key and partition. */
  duplicateAppends: number;
  /** Log entries with a seq below one at a lower offset of the same key and partition. */
  logReorders: number;
  /** 'ok' runs of a member that had lost the lease, never redelivered to another member. */
  fencedButAccepted: number;
  /** Pairs of overlapping runs in one ordering scope (see {@link CheckOptions.ordering}). */
  overlapping: number;
  /** Offsets skipped over retention gaps (sum of the ranges' counts). */
  skipped: number;
}

/** A message handled successfully more than once. */
export interface Duplicate {
  uid: string;
  /** Its 'ok' runs by start time. */
  okRuns: RunRecord[];
  inFlight: boolean;
}

/** A first successful run that started after that of a higher seq of the same key. */
export interface Regression {
  run: RunRecord;
  /** The first 'ok' run of the highest seq that had started before `run`. */
  overtakenBy: RunRecord;
}

/** Two log entries of one key and partition, `earlier` at the lower offset. */
export interface LogAnomaly {
  earlier: LogRecord;
  later: LogRecord;
}

/** Two runs whose intervals intersect, `first` the one that started first. */
export interface Overlap {
  first: RunRecord;
  second: RunRecord;
}

/** The first {@link EXAMPLE_LIMIT} examples of each anomaly. */
export interface CheckExamples {
  lost: ProducedRecord[];
  duplicated: Duplicate[];
  reorderedPerKey: Regression[];
  duplicateAppends: LogAnomaly[];
  logReorders: LogAnomaly[];
  fencedButAccepted: RunRecord[];
  overlapping: Overlap[];
}

/** What {@link check} found. */
export interface CheckResult {
  counts: CheckCounts;
  examples: CheckExamples;
  /** One line with every figure, prefixed by the scenario `name`. */
  summary(name: string): string;
}

class Tally<T> {
  count = 0;
  readonly examples: T[] = [];

  add(example: T): void {
    this.count += 1;
    if (this.examples.length < EXAMPLE_LIMIT) this.examples.push(example);
  }
}

/**
 * Checks `history`. Definitions:
 *
 * - **lost**: a produced message for which `mustSurvive` holds, with no run of outcome 'ok' and no
 *   dead-lettered record of its uid.
 * - **duplicated**: a uid with more than one 'ok' run. It is *in flight* when some fault instant
 *   `t` of `inFlightAt` has `first.startedAt ≤ t < next.startedAt`, where `first` is its first 'ok'
 *   run and `next` the run of the uid (any outcome) that started after it — the fault struck between
 *   the first success and the redelivery, so the acknowledgement could have been lost with it.
 *   Otherwise it is *unexplained*.
 * - **reorderedPerKey**: per topic and key, the first 'ok' runs of its messages ordered by
 *   `startedAt` must have non-decreasing seq; a message whose first 'ok' run starts strictly after
 *   the first 'ok' run of a higher seq is a regression. Redeliveries are not regressions (0,1,2,2).
 * - **duplicateAppends** / **logReorders**: per partition and key, `log` records in offset order
 *   must have strictly increasing seq; a seq seen before is a duplicate append, a lower seq not seen
 *   before is a log reorder. Log records carry no topic: record one topic's logs per history.
 * - **overlapping**: pairs of runs in one scope of `ordering` whose intervals intersect, the same
 *   member included; runs with `frozenDuringRun` are left out. Intervals are half-open
 *   (`a.startedAt < b.endedAt && b.startedAt < a.endedAt`): at millisecond resolution a handoff —
 *   handler returns, ack, next handler starts — often lands in one millisecond, and touching
 *   endpoints would report every such handoff.
 * - **fencedButAccepted**: an 'ok' run whose `leaseHolderAtEnd` is defined and is not a token of its
 *   member (`<member>:<counter>`; null counts as not held), with no 'ok' run of the same uid by
 *   another member that started later and no dead-lettered record: its acknowledgement must have
 *   been accepted, or the new owner would have redelivered it. Runs without `leaseHolderAtEnd` are
 *   not judged.
 */
export function check(history: readonly HistoryEntry[], options: CheckOptions): CheckResult {
  const runs = ofKind(history, 'run');
  const runsByUid = groupBy(runs, (run) => run.uid);
  for (const uidRuns of runsByUid.values()) uidRuns.sort(byStart);
  const firstOk = new Map<string, RunRecord>();
  for (const [uid, uidRuns] of runsByUid) {
    const ok = uidRuns.find((run) => run.outcome === 'ok');
    if (ok) firstOk.set(uid, ok);
  }
  const deadLettered = new Set(ofKind(history, 'dead-lettered').map((record) => record.uid));
  const produced = ofKind(history, 'produced');
  // A uid recorded twice (a send retried by the test) must survive if any of its sends must.
  const mustSurvive = uniqueByUid(produced.filter((record) => options.mustSurvive(record)));

  const lost = new Tally<ProducedRecord>();
  for (const record of mustSurvive) {
    if (!firstOk.has(record.uid) && !deadLettered.has(record.uid)) lost.add(record);
  }
  const { inFlight, unexplained } = findDuplicates(runsByUid, options.inFlightAt ?? []);
  const reordered = findRegressions([...firstOk.values()]);
  const { duplicateAppends, logReorders } = checkLogs(ofKind(history, 'log'));
  const overlapping = findOverlaps(runs, options.ordering);
  const fenced = new Tally<RunRecord>();
  for (const run of runs) {
    if (run.outcome !== 'ok' || run.leaseHolderAtEnd === undefined || holdsLease(run.leaseHolderAtEnd, run.member)) continue;
    if (deadLettered.has(run.uid)) continue;
    const redelivered = runsByUid.get(run.uid)!.some((other) => other.outcome === 'ok' && other.member !== run.member && other.startedAt > run.startedAt);
    if (!redelivered) fenced.add(run);
  }

  const counts: CheckCounts = {
    produced: new Set(produced.map((record) => record.uid)).size,
    mustSurvive: mustSurvive.length,
    handled: firstOk.size,
    deadLettered: deadLettered.size,
    lost: lost.count,
    duplicated: inFlight.count + unexplained.count,
    inFlightDuplicates: inFlight.count,
    unexplainedDuplicates: unexplained.count,
    reorderedPerKey: reordered.count,
    duplicateAppends: duplicateAppends.count,
    logReorders: logReorders.count,
    fencedButAccepted: fenced.count,
    overlapping: overlapping.count,
    skipped: ofKind(history, 'skipped').reduce((sum, gap) => sum + gap.count, 0),
  };
  const examples: CheckExamples = {
    lost: lost.examples,
    // Unexplained first: they are the ones a failing scenario needs to show.
    duplicated: [...unexplained.examples, ...inFlight.examples].slice(0, EXAMPLE_LIMIT),
    reorderedPerKey: reordered.examples,
    duplicateAppends: duplicateAppends.examples,
    logReorders: logReorders.examples,
    fencedButAccepted: fenced.examples,
    overlapping: overlapping.examples,
  };
  return { counts, examples, summary: (name) => formatSummary(name, counts) };
}

/** Writes the result's summary line to stdout, so CI logs show each scenario's figures. */
export function printSummary(name: string, result: CheckResult): void {
  console.log(result.summary(name));
}

function formatSummary(name: string, c: CheckCounts): string {
  return (
    `${name}: produced ${c.produced} (must survive ${c.mustSurvive}), handled ${c.handled}, dead-lettered ${c.deadLettered}, ` +
    `lost ${c.lost}, duplicated ${c.duplicated} (in flight ${c.inFlightDuplicates}, unexplained ${c.unexplainedDuplicates}), ` +
    `reordered ${c.reorderedPerKey}, log reorders ${c.logReorders}, duplicate appends ${c.duplicateAppends}, ` +
    `fenced-but-accepted ${c.fencedButAccepted}, overlapping ${c.overlapping}, skipped ${c.skipped}`
  );
}

function findDuplicates(runsByUid: Map<string, RunRecord[]>, faults: readonly number[]) {
  const inFlight = new Tally<Duplicate>();
  const unexplained = new Tally<Duplicate>();
  for (const [uid, uidRuns] of runsByUid) {
    const okRuns = uidRuns.filter((run) => run.outcome === 'ok');
    if (okRuns.length < 2) continue;
    const first = okRuns[0];
    // Exists: okRuns[1] comes after `first` in start order.
    const next = uidRuns[uidRuns.indexOf(first) + 1];
    const isInFlight = faults.some((t) => first.startedAt <= t && t < next.startedAt);
    (isInFlight ? inFlight : unexplained).add({ uid, okRuns, inFlight: isInFlight });
  }
  return { inFlight, unexplained };
}

function findRegressions(firstOkRuns: RunRecord[]): Tally<Regression> {
  const regressions = new Tally<Regression>();
  for (const keyRuns of groupBy(firstOkRuns, (run) => `${run.topic}\0${run.key}`).values()) {
    keyRuns.sort(byStart);
    // The highest seq among runs that started strictly earlier; runs starting in the same
    // millisecond cannot be ordered, so they are compared only with earlier ones.
    let highest: RunRecord | undefined;
    for (let from = 0; from < keyRuns.length; ) {
      let to = from;
      while (to < keyRuns.length && keyRuns[to].startedAt === keyRuns[from].startedAt) to += 1;
      const sameStart = keyRuns.slice(from, to);
      for (const run of sameStart) {
        if (highest && run.seq < highest.seq) regressions.add({ run, overtakenBy: highest });
      }
      for (const run of sameStart) {
        if (!highest || run.seq > highest.seq) highest = run;
      }
      from = to;
    }
  }
  return regressions;
}

function checkLogs(logs: LogRecord[]) {
  const duplicateAppends = new Tally<LogAnomaly>();
  const logReorders = new Tally<LogAnomaly>();
  for (const entries of groupBy(logs, (entry) => `${entry.partition}\0${entry.key}`).values()) {
    entries.sort((a, b) => a.offset - b.offset);
    const bySeq = new Map<number, LogRecord>();
    let highest: LogRecord | undefined;
    for (const entry of entries) {
      const same = bySeq.get(entry.seq);
      if (same) duplicateAppends.add({ earlier: same, later: entry });
      else if (highest && entry.seq < highest.seq) logReorders.add({ earlier: highest, later: entry });
      if (!same) bySeq.set(entry.seq, entry);
      if (!highest || entry.seq > highest.seq) highest = entry;
    }
  }
  return { duplicateAppends, logReorders };
}

const SCOPES = {
  partition: (run: RunRecord) => `${run.topic}\0${run.partition}`,
  key: (run: RunRecord) => `${run.topic}\0${run.key}`,
  none: (run: RunRecord) => run.uid,
} as const satisfies Record<CheckOptions['ordering'], (run: RunRecord) => string>;

function findOverlaps(runs: RunRecord[], ordering: CheckOptions['ordering']): Tally<Overlap> {
  const overlaps = new Tally<Overlap>();
  const judged = runs.filter((run) => !run.frozenDuringRun);
  for (const scopeRuns of groupBy(judged, SCOPES[ordering]).values()) {
    scopeRuns.sort(byStart);
    let active: RunRecord[] = [];
    for (const run of scopeRuns) {
      active = active.filter((earlier) => earlier.endedAt > run.startedAt);
      for (const earlier of active) {
        if (earlier.startedAt < run.endedAt) overlaps.add({ first: earlier, second: run });
      }
      active.push(run);
    }
  }
  return overlaps;
}

/** Whether a lease value `<memberId>:<acquisition-counter>` is a token of `member`. */
function holdsLease(token: string | null, member: string): boolean {
  if (token === null) return false;
  const separator = token.lastIndexOf(':');
  return (separator === -1 ? token : token.slice(0, separator)) === member;
}

function ofKind<K extends HistoryEntry['kind']>(history: readonly HistoryEntry[], kind: K): Extract<HistoryEntry, { kind: K }>[] {
  return history.filter((entry): entry is Extract<HistoryEntry, { kind: K }> => entry.kind === kind);
}

function uniqueByUid<T extends { uid: string }>(records: T[]): T[] {
  return [...new Map(records.map((record) => [record.uid, record] as const)).values()];
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

function byStart(a: RunRecord, b: RunRecord): number {
  return a.startedAt - b.startedAt || a.endedAt - b.endedAt;
}
