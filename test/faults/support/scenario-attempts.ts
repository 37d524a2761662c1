/**
 * Checks of a history the general checker leaves out: the attempt numbers a handler was given, and
 * how often a message reached the dead-letter topic. Pure functions over history records.
 */
import type { HistoryEntry, RunRecord } from './history.js';

/** A message whose runs, by start time, were given these attempt numbers. */
export interface AttemptSequence {
  uid: string;
  attempts: number[];
}

/** What {@link checkAttempts} found. */
export interface AttemptCheck {
  /** Messages whose attempt numbers did not start at 1 or jumped by more than one (1, 3, 4). */
  skipped: AttemptSequence[];
  /** Messages given one attempt number twice with no fault instant between the two runs. */
  repeated: AttemptSequence[];
  /** Messages given the same attempt number again across a fault (the earlier run was in flight). */
  repeatedInFlight: AttemptSequence[];
  /** Messages run with an attempt number above the policy's `attempts`. */
  beyondLimit: AttemptSequence[];
  /** Messages with more than one dead letter. */
  deadLetteredTwice: Array<{ uid: string; deadLetters: number }>;
}

/**
 * Per message, the attempt numbers of its runs in start order must be 1, 2, 3, … : each run is
 * given the previous run's number plus one. The same number again is allowed only when a fault
 * instant of `faults` lies between the two runs' starts (the outcome of the earlier run was in
 * flight when the connection went, so it could not count). No number may exceed `maxAttempts`, and
 * no message may have more than one dead letter.
 */
export function checkAttempts(history: readonly HistoryEntry[], faults: readonly number[], maxAttempts: number): AttemptCheck {
  const result: AttemptCheck = { skipped: [], repeated: [], repeatedInFlight: [], beyondLimit: [], deadLetteredTwice: [] };
  const runsByUid = new Map<string, RunRecord[]>();
  for (const entry of history) {
    if (entry.kind !== 'run') continue;
    const runs = runsByUid.get(entry.uid) ?? [];
    runs.push(entry);
    runsByUid.set(entry.uid, runs);
  }
  for (const [uid, runs] of runsByUid) {
    runs.sort((a, b) => a.startedAt - b.startedAt || a.attempt - b.attempt);
    const sequence = { uid, attempts: runs.map((run) => run.attempt) };
    if (sequence.attempts[0] !== 1 || runs.some((run, i) => i > 0 && run.attempt > runs[i - 1].attempt + 1)) result.skipped.push(sequence);
    let unexplained = false;
    let acrossFault = false;
    for (let i = 1; i < runs.length; i++) {
      const [earlier, later] = [runs[i - 1], runs[i]];
      if (later.attempt > earlier.attempt) continue;
      if (faults.some((t) => earlier.startedAt <= t && t < later.startedAt)) acrossFault = true;
      else unexplained = true;
    }
    if (unexplained) result.repeated.push(sequence);
    else if (acrossFault) result.repeatedInFlight.push(sequence);
    if (sequence.attempts.some((attempt) => attempt > maxAttempts)) result.beyondLimit.push(sequence);
  }
  const deadLetters = new Map<string, number>();
  for (const entry of history) {
    if (entry.kind === 'dead-lettered') deadLetters.set(entry.uid, (deadLetters.get(entry.uid) ?? 0) + 1);
  }
  for (const [uid, count] of deadLetters) if (count > 1) result.deadLetteredTwice.push({ uid, deadLetters: count });
  return result;
}
