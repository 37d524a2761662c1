/**
 * Handler runs — one start and (unless the process died) one end per handler invocation — on one
 * clock, and what they say about a consumer: lost and duplicated messages, per-key order, runs of
 * one key overlapping, handlers in flight.
 */

/** One handler invocation. `start` and `end` come from a single clock shared by every member. */
export interface HandlerRun {
  member: string;
  partition: number;
  offset: number;
  key: string | null;
  /** The message's sequence number within its key, as produced. */
  seq: number;
  attempt: number;
  start: number;
  /** Missing while the handler runs, and forever when its process was killed. */
  end?: number;
  failed?: boolean;
}

/**
 * Records the runs of handlers in this process. The clock is a counter, so "before" and "after"
 * are exact, and in-flight counts are kept per member and overall.
 */
export class HandlerLog {
  readonly runs: HandlerRun[] = [];
  private tick = 0;
  private inFlight = 0;
  /** The most handlers seen running at once. */
  maxInFlight = 0;
  private readonly perMember = new Map<string, number>();
  private readonly maxPerMember = new Map<string, number>();

  begin(member: string, { partition, message, attempt }: { partition: number; message: { offset: number; key: string | null; value: unknown }; attempt: number }): HandlerRun {
    const run: HandlerRun = { member, partition, offset: message.offset, key: message.key, seq: (message.value as { seq?: number }).seq ?? -1, attempt, start: ++this.tick };
    this.runs.push(run);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const mine = (this.perMember.get(member) ?? 0) + 1;
    this.perMember.set(member, mine);
    this.maxPerMember.set(member, Math.max(this.maxPerMember.get(member) ?? 0, mine));
    return run;
  }

  finish(run: HandlerRun, failed = false): void {
    run.end = ++this.tick;
    run.failed = failed;
    this.inFlight--;
    this.perMember.set(run.member, this.perMember.get(run.member)! - 1);
  }

  /** Wraps a handler so each of its runs is recorded (a throw is recorded as a failed run and rethrown). */
  wrap<P extends { partition: number; message: { offset: number; key: string | null; value: unknown }; attempt: number }>(member: string, handler: (payload: P) => Promise<void>) {
    return async (payload: P) => {
      const run = this.begin(member, payload);
      try {
        await handler(payload);
      } catch (error) {
        this.finish(run, true);
        throw error;
      }
      this.finish(run);
    };
  }

  inFlightOf(member?: string): number {
    return member === undefined ? this.inFlight : (this.perMember.get(member) ?? 0);
  }

  maxInFlightOf(member: string): number {
    return this.maxPerMember.get(member) ?? 0;
  }

  /** The clock now: every run started later has a greater `start`. */
  now(): number {
    return this.tick;
  }

  unfinished(): HandlerRun[] {
    return this.runs.filter((run) => run.end === undefined);
  }
}

/** A message's identity within a topic. */
export const messageId = (run: { partition: number; offset: number }) => `${run.partition}:${run.offset}`;

/**
 * Lost messages (no run finished successfully), duplicates (a message whose handler started more
 * than once) and per-key order: the first run of each message of a key must start in produce order.
 */
export function tally(runs: readonly HandlerRun[], total: number) {
  const byMessage = new Map<string, HandlerRun[]>();
  for (const run of [...runs].sort((a, b) => a.start - b.start)) {
    const id = messageId(run);
    const list = byMessage.get(id);
    if (list === undefined) byMessage.set(id, [run]);
    else list.push(run);
  }
  const handled = [...byMessage.values()].filter((list) => list.some((run) => run.end !== undefined && !run.failed)).length;
  const duplicates = [...byMessage.values()].filter((list) => list.length > 1);
  const orderViolations: string[] = [];
  const lastSeq = new Map<string, number>();
  for (const [first] of byMessage.values()) {
    if (first.key === null) continue;
    const previous = lastSeq.get(first.key) ?? -1;
    if (first.seq !== previous + 1) orderViolations.push(`${first.key}: ${previous} then ${first.seq}`);
    lastSeq.set(first.key, first.seq);
  }
  return { handled, lost: total - handled, duplicates, orderViolations };
}

/**
 * Runs of one key (same partition) that overlap in time; a run that never ended counts as running
 * until `openUntil` (e.g. the moment its process was known dead), or forever.
 */
export function keyOverlaps(runs: readonly HandlerRun[], openUntil: (run: HandlerRun) => number = () => Infinity): string[] {
  const byKey = new Map<string, HandlerRun[]>();
  for (const run of runs) {
    if (run.key === null) continue;
    const id = `${run.partition}/${run.key}`;
    const list = byKey.get(id);
    if (list === undefined) byKey.set(id, [run]);
    else list.push(run);
  }
  const overlaps: string[] = [];
  for (const [id, list] of byKey) {
    list.sort((a, b) => a.start - b.start);
    let latest: HandlerRun | undefined;
    let latestEnd = -Infinity;
    for (const run of list) {
      if (latest !== undefined && run.start < latestEnd) {
        overlaps.push(`${id}: ${latest.member}@${latest.offset} (${latest.start}–${latest.end ?? 'never'}) and ${run.member}@${run.offset} (started ${run.start})`);
      }
      const end = run.end ?? openUntil(run);
      if (end > latestEnd) {
        latestEnd = end;
        latest = run;
      }
    }
  }
  return overlaps;
}

/**
 * Runs of different members on one partition that overlap in time: exclusive ownership allows
 * none. A run that never ended counts as running until `openUntil`, or forever.
 */
export function memberOverlaps(runs: readonly HandlerRun[], openUntil: (run: HandlerRun) => number = () => Infinity): string[] {
  const byPartition = new Map<number, HandlerRun[]>();
  for (const run of runs) byPartition.set(run.partition, [...(byPartition.get(run.partition) ?? []), run]);
  const overlaps: string[] = [];
  for (const [partition, list] of byPartition) {
    list.sort((a, b) => a.start - b.start);
    const latestEnd = new Map<string, number>();
    for (const run of list) {
      for (const [member, end] of latestEnd) {
        if (member !== run.member && end > run.start) overlaps.push(`partition ${partition}: ${member} ran until ${end}, ${run.member}@${run.offset} started at ${run.start}`);
      }
      latestEnd.set(run.member, Math.max(latestEnd.get(run.member) ?? -Infinity, run.end ?? openUntil(run)));
    }
  }
  return overlaps;
}
