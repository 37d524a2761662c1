/**
 * The history of a fault scenario, Jepsen style: what producers sent, every handler run, what went
 * to the dead-letter topic, what retention skipped and what the partition logs hold afterwards.
 * Scenarios record it while they run — in this process through {@link HistoryRecorder}, in child
 * processes through {@link RedisHistory} — and hand it to `check()` in `checker.ts`.
 *
 * Every time (`at`, `startedAt`, `endedAt`) is `Date.now()` of the process that recorded it. Runs of
 * different processes are compared with each other, which is sound only because every process of a
 * scenario runs on one machine and so reads one wall clock. Faults that skew clocks skew Redis
 * `TIME` or a library clock, never the `Date.now()` the history is recorded with.
 */

/** The `acks` a producer sent with. */
export type ProduceAcks = 'none' | 'leader' | 'all';

/** When, relative to the injected fault, a message was produced. */
export type FaultPhase = 'before-fault' | 'during-fault' | 'after-fault';

/** How one handler invocation ended. */
export type RunOutcome = 'ok' | 'error' | 'aborted';

/** One message a producer tried to send. */
export interface ProducedRecord {
  kind: 'produced';
  /** Unique id the test puts in the message value; identifies the message across rollbacks. */
  uid: string;
  key: string;
  /** Per-key sequence number: 0, 1, 2, … per key in produce order. */
  seq: number;
  topic: string;
  partition: number;
  /** Offset `send` reported; -1 when it did not resolve. */
  offset: number;
  acks: ProduceAcks;
  /** Whether `send` resolved. */
  acknowledged: boolean;
  /** When `send` was called. */
  at: number;
  phase: FaultPhase;
}

/** One handler invocation. */
export interface RunRecord {
  kind: 'run';
  uid: string;
  key: string;
  seq: number;
  topic: string;
  partition: number;
  offset: number;
  /** The memberId of the member whose handler ran. */
  member: string;
  /** Delivery attempt the handler was given, from 1. */
  attempt: number;
  startedAt: number;
  endedAt: number;
  outcome: RunOutcome;
  /**
   * The partition's lease value, read by the handler right before it returned: the fencing token
   * `<memberId>:<acquisition-counter>`, or null when no member held the lease. Left out when the
   * scenario does not read it; such runs are not judged for fencing.
   */
  leaseHolderAtEnd?: string | null;
  /** Set by the scenario on runs a SIGSTOP interrupted; they are excluded from overlap checks. */
  frozenDuringRun?: boolean;
}

/** A message found in the dead-letter topic after the run. */
export interface DeadLetteredRecord {
  kind: 'dead-lettered';
  uid: string;
  partition: number;
  offset: number;
}

/** A retention gap a consumer reported, as a range of offsets. */
export interface SkippedRecord {
  kind: 'skipped';
  partition: number;
  from: number;
  to: number;
  count: number;
}

/** An entry read back from a partition log after the run. */
export interface LogRecord {
  kind: 'log';
  uid: string;
  key: string;
  seq: number;
  partition: number;
  offset: number;
}

/** Any record of a history. */
export type HistoryEntry = ProducedRecord | RunRecord | DeadLetteredRecord | SkippedRecord | LogRecord;

/** Every `kind` a history entry can have. */
export const HISTORY_KINDS = ['produced', 'run', 'dead-lettered', 'skipped', 'log'] as const satisfies readonly HistoryEntry['kind'][];

/** Where scenario code records to; both recorders implement it. */
export interface HistorySink {
  record(entry: HistoryEntry): void | Promise<void>;
}

/** Records a history in memory, for producers and members running in the test process. */
export class HistoryRecorder implements HistorySink {
  readonly #entries: HistoryEntry[] = [];

  /** The records so far, in recording order. */
  get entries(): readonly HistoryEntry[] {
    return this.#entries;
  }

  record(entry: HistoryEntry): void {
    this.#entries.push(entry);
  }

  /** Appends records gathered elsewhere, e.g. `await redisHistory.read()` of child processes. */
  recordAll(entries: Iterable<HistoryEntry>): void {
    for (const entry of entries) this.#entries.push(entry);
  }
}

/** The three list commands {@link RedisHistory} needs; an ioredis `Redis` satisfies it. */
export interface HistoryListClient {
  rpush(key: string, ...values: string[]): Promise<number>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  del(...keys: string[]): Promise<number>;
}

/**
 * Records a history as JSON lines in a Redis list, so child processes can record and the test
 * process reads everything back. Use a key under the test's unique prefix, on a Redis the scenario
 * does not fault (a rollback would drop history lines).
 */
export class RedisHistory implements HistorySink {
  constructor(
    private readonly redis: HistoryListClient,
    /** The list the lines go to. */
    readonly key: string,
  ) {}

  async record(entry: HistoryEntry): Promise<void> {
    await this.redis.rpush(this.key, JSON.stringify(entry));
  }

  /** Every record of the list, in append order. */
  async read(): Promise<HistoryEntry[]> {
    const lines = await this.redis.lrange(this.key, 0, -1);
    return lines.map((line, index) => parseHistoryLine(line, `${this.key}[${index}]`));
  }

  /** Deletes the list; call it in the test's cleanup. */
  async clear(): Promise<void> {
    await this.redis.del(this.key);
  }
}

/** Parses one JSON line of a history list; `where` names the line in the error. */
export function parseHistoryLine(line: string, where: string): HistoryEntry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    throw new Error(`history line ${where} is not JSON: ${line.slice(0, 200)}; record only through RedisHistory.record`, { cause });
  }
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (!(HISTORY_KINDS as readonly unknown[]).includes(kind)) {
    throw new Error(`history line ${where} has kind ${JSON.stringify(kind)}; expected one of ${HISTORY_KINDS.join(', ')}`);
  }
  return value as HistoryEntry;
}
