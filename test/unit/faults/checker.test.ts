import { describe, expect, it, vi } from 'vitest';
import { check, EXAMPLE_LIMIT, printSummary, type CheckOptions } from '../../faults/support/checker.js';
import type { HistoryEntry, LogRecord, ProducedRecord, RunRecord } from '../../faults/support/history.js';

const ALL_ACKED: CheckOptions = { mustSurvive: (p) => p.acknowledged && p.acks === 'all', ordering: 'partition' };

function produced(uid: string, overrides: Partial<ProducedRecord> = {}): ProducedRecord {
  return { kind: 'produced', uid, key: 'k', seq: 0, topic: 't', partition: 0, offset: 0, acks: 'all', acknowledged: true, at: 0, phase: 'before-fault', ...overrides };
}

/** A run of `uid` over [startedAt, endedAt]. */
function run(uid: string, startedAt: number, endedAt: number, overrides: Partial<RunRecord> = {}): RunRecord {
  return { kind: 'run', uid, key: 'k', seq: 0, topic: 't', partition: 0, offset: 0, member: 'm1', attempt: 1, startedAt, endedAt, outcome: 'ok', ...overrides };
}

function log(uid: string, seq: number, offset: number, overrides: Partial<LogRecord> = {}): LogRecord {
  return { kind: 'log', uid, key: 'k', seq, partition: 0, offset, ...overrides };
}

/** Sequential first-successful runs of key 'k' with the given seqs, 10 ms apart. */
function runsInOrder(seqs: number[]): RunRecord[] {
  return seqs.map((seq, i) => run(`u${seq}`, i * 10, i * 10 + 5, { seq, offset: seq }));
}

describe('check: lost', () => {
  it('counts a message that must survive with no successful run as lost', () => {
    const history: HistoryEntry[] = [produced('a'), produced('b'), run('a', 0, 1), run('b', 2, 3, { outcome: 'error' })];
    const result = check(history, ALL_ACKED);
    expect(result.counts.lost).toBe(1);
    expect(result.examples.lost.map((p) => p.uid)).toEqual(['b']);
  });

  it('does not count a dead-lettered message or one mustSurvive excludes as lost', () => {
    const history: HistoryEntry[] = [
      produced('a'),
      { kind: 'dead-lettered', uid: 'a', partition: 0, offset: 0 },
      produced('b', { acknowledged: false }),
      produced('c', { acks: 'leader' }),
    ];
    const result = check(history, ALL_ACKED);
    expect(result.counts).toMatchObject({ produced: 3, mustSurvive: 1, deadLettered: 1, lost: 0 });
  });
});

describe('check: duplicated', () => {
  it('counts a redelivery across a fault instant as an in-flight duplicate', () => {
    const history = [run('a', 100, 110, { member: 'm1' }), run('a', 200, 210, { member: 'm2' })];
    const result = check(history, { ...ALL_ACKED, inFlightAt: [150] });
    expect(result.counts).toMatchObject({ duplicated: 1, inFlightDuplicates: 1, unexplainedDuplicates: 0 });
    expect(result.examples.duplicated[0]).toMatchObject({ uid: 'a', inFlight: true });
  });

  it('counts a redelivery with no fault between first success and the next run as unexplained', () => {
    const history = [run('a', 100, 110), run('a', 200, 210)];
    expect(check(history, { ...ALL_ACKED, inFlightAt: [50, 250] }).counts).toMatchObject({ duplicated: 1, inFlightDuplicates: 0, unexplainedDuplicates: 1 });
    expect(check(history, ALL_ACKED).counts.unexplainedDuplicates).toBe(1);
  });

  it('judges in flight by the next run of any outcome, not the next successful one', () => {
    // The fault at 250 came after the redelivery at 200 started, so it cannot explain it.
    const history = [run('a', 100, 110), run('a', 200, 210, { outcome: 'error' }), run('a', 300, 310)];
    expect(check(history, { ...ALL_ACKED, inFlightAt: [250] }).counts.unexplainedDuplicates).toBe(1);
  });

  it('does not count failed attempts followed by one success as a duplicate', () => {
    const history = [run('a', 0, 1, { outcome: 'error' }), run('a', 2, 3, { outcome: 'aborted' }), run('a', 4, 5)];
    expect(check(history, ALL_ACKED).counts).toMatchObject({ handled: 1, duplicated: 0 });
  });
});

describe('check: reordered per key', () => {
  it('does not count a redelivery 0, 1, 2, 2 as a regression', () => {
    const history = [...runsInOrder([0, 1, 2]), run('u2', 40, 45, { seq: 2 })];
    expect(check(history, ALL_ACKED).counts.reorderedPerKey).toBe(0);
  });

  it('counts first successes 0, 2, 1 as one regression', () => {
    const result = check(runsInOrder([0, 2, 1]), ALL_ACKED);
    expect(result.counts.reorderedPerKey).toBe(1);
    expect(result.examples.reorderedPerKey[0]).toMatchObject({ run: { seq: 1 }, overtakenBy: { seq: 2 } });
  });

  it('orders by first success, so a late failed attempt of a lower seq is no regression', () => {
    const history = [...runsInOrder([0, 1, 2]), run('u1', 40, 45, { seq: 1, outcome: 'error' })];
    expect(check(history, ALL_ACKED).counts.reorderedPerKey).toBe(0);
  });

  it('keeps keys apart', () => {
    const history = [run('a', 0, 1, { key: 'x', seq: 5 }), run('b', 2, 3, { key: 'y', seq: 0 })];
    expect(check(history, ALL_ACKED).counts.reorderedPerKey).toBe(0);
  });
});

describe('check: partition logs', () => {
  it('counts a repeated seq of a key as a duplicate append and a lower new seq as a log reorder', () => {
    const history = [log('a', 0, 0), log('b', 1, 1), log('b', 1, 2), log('d', 3, 3), log('c', 2, 4)];
    const result = check(history, ALL_ACKED);
    expect(result.counts).toMatchObject({ duplicateAppends: 1, logReorders: 1 });
    expect(result.examples.logReorders[0]).toMatchObject({ earlier: { seq: 3 }, later: { seq: 2 } });
  });

  it('accepts strictly increasing seqs per key, interleaved with other keys, in offset order', () => {
    const history = [log('b', 1, 2), log('x', 0, 1, { key: 'other' }), log('a', 0, 0), log('c', 2, 3)];
    expect(check(history, ALL_ACKED).counts).toMatchObject({ duplicateAppends: 0, logReorders: 0 });
  });
});

describe('check: overlapping', () => {
  it('counts two runs of one partition overlapping, even of the same member', () => {
    const history = [run('a', 0, 10, { member: 'm1' }), run('b', 5, 15, { member: 'm1' })];
    const result = check(history, ALL_ACKED);
    expect(result.counts.overlapping).toBe(1);
    expect(result.examples.overlapping[0]).toMatchObject({ first: { uid: 'a' }, second: { uid: 'b' } });
  });

  it('does not count back-to-back runs or runs of other partitions as overlapping', () => {
    const history = [run('a', 0, 10), run('b', 10, 20), run('c', 5, 15, { partition: 1 })];
    expect(check(history, ALL_ACKED).counts.overlapping).toBe(0);
  });

  it('leaves out runs a SIGSTOP interrupted', () => {
    const history = [run('a', 0, 100, { member: 'm1', frozenDuringRun: true }), run('a', 50, 60, { member: 'm2' })];
    expect(check(history, ALL_ACKED).counts.overlapping).toBe(0);
  });

  it('scopes overlap to keys for ordering key and to messages for ordering none', () => {
    const history = [run('a', 0, 10, { key: 'x' }), run('b', 5, 15, { key: 'y' }), run('c', 6, 8, { key: 'x' }), run('c', 7, 9, { key: 'x' })];
    expect(check(history, { ...ALL_ACKED, ordering: 'key' }).counts.overlapping).toBe(3);
    expect(check(history, { ...ALL_ACKED, ordering: 'none' }).counts.overlapping).toBe(1);
  });
});

describe('check: fenced but accepted', () => {
  const fencedRun = run('a', 0, 10, { member: 'm1', leaseHolderAtEnd: 'm2:7' });

  it('counts a successful run after the member lost the lease, never redelivered, as fenced-but-accepted', () => {
    const result = check([fencedRun], ALL_ACKED);
    expect(result.counts.fencedButAccepted).toBe(1);
    expect(result.examples.fencedButAccepted).toEqual([fencedRun]);
    expect(check([run('a', 0, 10, { leaseHolderAtEnd: null })], ALL_ACKED).counts.fencedButAccepted).toBe(1);
  });

  it('accepts a fenced run the new owner redelivered', () => {
    const history = [fencedRun, run('a', 20, 30, { member: 'm2', leaseHolderAtEnd: 'm2:7' })];
    expect(check(history, ALL_ACKED).counts.fencedButAccepted).toBe(0);
  });

  it('does not accept a redelivery by the same member or one that started earlier', () => {
    const history = [run('a', -20, -10, { member: 'm2' }), fencedRun, run('a', 20, 30, { member: 'm1' })];
    expect(check(history, ALL_ACKED).counts.fencedButAccepted).toBe(1);
  });

  it('does not judge runs that held the lease, left it unread or were dead-lettered', () => {
    const history: HistoryEntry[] = [
      run('a', 0, 10, { member: 'm1', leaseHolderAtEnd: 'm1:3' }),
      run('b', 0, 10, { member: 'm1' }),
      run('c', 0, 10, { member: 'm1', leaseHolderAtEnd: 'm2:1' }),
      { kind: 'dead-lettered', uid: 'c', partition: 0, offset: 2 },
      run('d', 0, 10, { member: 'm1', leaseHolderAtEnd: 'm1:9', outcome: 'error' }),
    ];
    expect(check(history, { ...ALL_ACKED, ordering: 'none' }).counts.fencedButAccepted).toBe(0);
  });

  it('compares the whole member id, not a prefix of it', () => {
    expect(check([run('a', 0, 10, { member: 'm1', leaseHolderAtEnd: 'm1:x:4' })], ALL_ACKED).counts.fencedButAccepted).toBe(1);
  });
});

describe('check: summary', () => {
  it('prints every figure on one line named after the scenario', () => {
    const history: HistoryEntry[] = [
      produced('a'),
      produced('b'),
      run('a', 0, 5),
      run('a', 20, 25),
      { kind: 'skipped', partition: 0, from: 10, to: 19, count: 10 },
      { kind: 'skipped', partition: 1, from: 0, to: 4, count: 5 },
    ];
    const result = check(history, { ...ALL_ACKED, inFlightAt: [10] });
    const write = vi.spyOn(console, 'log').mockImplementation(() => {});
    printSummary('rollback-snapshot', result);
    expect(write).toHaveBeenCalledWith(
      'rollback-snapshot: produced 2 (must survive 2), handled 1, dead-lettered 0, lost 1, duplicated 1 (in flight 1, unexplained 0), ' +
        'reordered 0, log reorders 0, duplicate appends 0, fenced-but-accepted 0, overlapping 0, skipped 15',
    );
    write.mockRestore();
  });

  it(`keeps only the first ${EXAMPLE_LIMIT} examples but counts them all`, () => {
    const history = Array.from({ length: 25 }, (_, i) => produced(`u${i}`));
    const result = check(history, ALL_ACKED);
    expect(result.counts.lost).toBe(25);
    expect(result.examples.lost).toHaveLength(EXAMPLE_LIMIT);
  });
});
