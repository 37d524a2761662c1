import { Redis } from 'ioredis';
import type { Acks, Brook, Producer } from '@brook/broker';
import type { FaultPhase, HistoryRecorder, LogRecord, DeadLetteredRecord } from './history.js';

/** A message value of the fault workloads: its uid, key and per-key sequence, and how many attempts fail. */
export interface WorkloadValue {
  uid: string;
  key: string;
  seq: number;
  fail?: number;
  holdMs?: number;
}

/**
 * Produces keyed messages whose values identify them (uid = key#seq), recording every send in the
 * history with whether it was acknowledged and the offset it got.
 */
export class Workload {
  private readonly seqs: number[];
  private sent = 0;
  readonly producer: Producer;

  constructor(
    private readonly brook: Brook,
    readonly topic: string,
    private readonly history: HistoryRecorder,
    private readonly options: { keys?: number; acks?: Acks; producer?: Producer } = {},
  ) {
    this.seqs = new Array<number>(options.keys ?? 20).fill(0);
    this.producer = options.producer ?? brook.producer({ acks: options.acks ?? 'leader' });
  }

  /** Sends `count` messages in one call; resolves whether it was acknowledged (never rejects). */
  async produce(count: number, phase: FaultPhase, value: (v: WorkloadValue) => WorkloadValue = (v) => v): Promise<boolean> {
    const values = Array.from({ length: count }, () => {
      const k = this.sent++ % this.seqs.length;
      const key = `key-${k}`;
      const seq = this.seqs[k]++;
      return value({ uid: `${key}#${seq}`, key, seq });
    });
    const at = Date.now();
    const acks = this.options.acks ?? 'leader';
    try {
      const metadata = await this.producer.send({ topic: this.topic, messages: values.map((v) => ({ key: v.key, value: v })) });
      values.forEach((v, i) =>
        this.history.record({ kind: 'produced', uid: v.uid, key: v.key, seq: v.seq, topic: this.topic, partition: metadata[i].partition, offset: metadata[i].offset, acks, acknowledged: true, at, phase }),
      );
      return true;
    } catch {
      for (const v of values) this.history.record({ kind: 'produced', uid: v.uid, key: v.key, seq: v.seq, topic: this.topic, partition: -1, offset: -1, acks, acknowledged: false, at, phase });
      return false;
    }
  }

  /** Produces `total` messages in sends of `perSend` every `everyMs`, asking `phase()` for each send's phase. */
  steadily({ total, perSend = 10, everyMs = 10, phase }: { total: number; perSend?: number; everyMs?: number; phase: () => FaultPhase }) {
    let produced = 0;
    const done = (async () => {
      while (produced < total) {
        const n = Math.min(perSend, total - produced);
        produced += n;
        await Promise.all([this.produce(n, phase()), new Promise((resolve) => setTimeout(resolve, everyMs))]);
      }
    })();
    return {
      done,
      get produced() {
        return produced;
      },
    };
  }
}

/** What the partition logs hold after a scenario, as log records (for duplicate appends and order in the log). */
export async function readLogs(redisUrl: string, prefix: string, topic: string, partitions: number): Promise<LogRecord[]> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    return await readPartitionLogs(redis, (partition) => `${prefix}:{${topic}:${partition}}:log`, partitions);
  } finally {
    redis.disconnect();
  }
}

/** Reads the logs `logKey(0 … partitions - 1)` through `redis` (a server or a Cluster) as log records. */
export async function readPartitionLogs(
  redis: { xrange(key: string, start: string, end: string, count: 'COUNT', n: number): Promise<Array<[string, string[]]>> },
  logKey: (partition: number) => string,
  partitions: number,
): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    let start = '-';
    for (;;) {
      const entries = await redis.xrange(logKey(partition), start, '+', 'COUNT', 1_000);
      for (const [id, fields] of entries) {
        const value = JSON.parse(fields[fields.indexOf('v') + 1]) as WorkloadValue;
        records.push({ kind: 'log', uid: value.uid, key: value.key, seq: value.seq, partition, offset: Number(id.slice(2)) - 1 });
      }
      if (entries.length < 1_000) break;
      start = `(${entries[entries.length - 1][0]}`;
    }
  }
  return records;
}

/** The group's dead letters after a scenario. */
export async function readDeadLetters(brook: Brook, topic: string, group: string): Promise<DeadLetteredRecord[]> {
  const records: DeadLetteredRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await brook.admin().deadLetters.list({ topic, group, cursor, limit: 1_000 });
    for (const letter of page.items) records.push({ kind: 'dead-lettered', uid: (letter.message.value as WorkloadValue).uid, partition: letter.partition, offset: letter.offset });
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return records;
}
