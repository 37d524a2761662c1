import type { Brook } from '@brook/broker';
import { rawRedis } from '../support/brook.js';

/** What a member process recorded for one handled message. */
export interface HandledRecord {
  member: string;
  partition: number;
  offset: number;
  key: string;
  seq: number;
  startedAt: number;
  endedAt: number;
}

/** Produces `total` messages keyed over `keys` keys at about `perSecond`, values { seq } per key. */
export function produceSteadily(brook: Brook, topic: string, { total, perSecond, keys = 40 }: { total: number; perSecond: number; keys?: number }) {
  const producer = brook.producer();
  const perTick = Math.max(1, Math.round(perSecond / 100));
  const seqs = new Array<number>(keys).fill(0);
  let produced = 0;
  const done = (async () => {
    while (produced < total) {
      const n = Math.min(perTick, total - produced);
      const messages = Array.from({ length: n }, (_, i) => {
        const k = (produced + i) % keys;
        return { key: `key-${k}`, value: { seq: seqs[k]++ } };
      });
      produced += n;
      await Promise.all([producer.send({ topic, messages }), new Promise((resolve) => setTimeout(resolve, 10))]);
    }
  })();
  return { done, get produced() { return produced; } };
}

export async function readRecords(recordsKey: string, redisUrl?: string): Promise<HandledRecord[]> {
  return (await rawRedis(redisUrl).lrange(recordsKey, 0, -1)).map((line) => JSON.parse(line) as HandledRecord);
}

/** Lost messages, duplicates and per-key order violations in what members handled. */
export function analyze(records: HandledRecord[], total: number) {
  const byMessage = new Map<string, HandledRecord[]>();
  for (const record of records) {
    const id = `${record.partition}:${record.offset}`;
    byMessage.set(id, [...(byMessage.get(id) ?? []), record]);
  }
  const duplicates = [...byMessage.values()].filter((list) => list.length > 1);
  // Per key, the first handling of each message follows the order the messages were produced in.
  const orderViolations: string[] = [];
  const lastSeq = new Map<string, number>();
  const firstSeen = new Set<string>();
  for (const record of records) {
    const id = `${record.partition}:${record.offset}`;
    if (firstSeen.has(id)) continue;
    firstSeen.add(id);
    const previous = lastSeq.get(record.key) ?? -1;
    if (record.seq !== previous + 1) orderViolations.push(`${record.key}: ${previous} then ${record.seq}`);
    lastSeq.set(record.key, record.seq);
  }
  return { handled: byMessage.size, lost: total - byMessage.size, duplicates, orderViolations };
}
