import type { Brook, Consumer, ConsumerOptions, DeadLetterOptions, EachMessagePayload, RetryOptions } from '@brook/broker';
import { uniqueName } from '../support/brook.js';

/** Fast group timings for tests. */
export const FAST = { sessionTimeoutMs: 1_000, heartbeatIntervalMs: 50, maxWaitTimeMs: 1_000 } as const;

export interface Seen {
  partition: number;
  offset: number;
  key: string | null;
  value: unknown;
  attempt: number;
  memberId: string;
}

/** Creates a topic and produces `count` messages keyed over `keys` keys, each value { seq } (per key). */
export async function topicWithMessages(brook: Brook, { partitions = 3, count = 0, keys = 10 } = {}) {
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions });
  const seqs = new Map<string, number>();
  const messages = Array.from({ length: count }, () => nextMessage(seqs, keys));
  if (count > 0) await brook.producer().send({ topic, messages });
  return { topic, more: (n: number) => brook.producer().send({ topic, messages: Array.from({ length: n }, () => nextMessage(seqs, keys)) }) };
}

function nextMessage(seqs: Map<string, number>, keys: number) {
  const total = [...seqs.values()].reduce((a, b) => a + b + 1, 0);
  const key = `key-${total % keys}`;
  const seq = (seqs.get(key) ?? -1) + 1;
  seqs.set(key, seq);
  return { key, value: { seq } };
}

/** Starts a consumer that records what it sees; `handler` may add behaviour. */
export async function startConsumer(
  brook: Brook,
  topic: string,
  options: Partial<ConsumerOptions> & { fromBeginning?: boolean; concurrency?: number; backoffMs?: number; retry?: RetryOptions; deadLetter?: DeadLetterOptions } = {},
  handler?: (payload: EachMessagePayload, consumer: Consumer) => Promise<void> | void,
) {
  const { fromBeginning = true, concurrency, backoffMs, retry, deadLetter, ...consumerOptions } = options;
  const consumer = brook.consumer({ group: 'billing', ...FAST, ...consumerOptions });
  const seen: Seen[] = [];
  await consumer.subscribe({ topic, fromBeginning });
  await consumer.run({
    partitionsConsumedConcurrently: concurrency ?? 8,
    retry: { ...(backoffMs === undefined ? {} : { backoff: { type: 'fixed', initialMs: backoffMs, jitter: 0 } }), ...retry },
    deadLetter,
    eachMessage: async (payload) => {
      if (handler) await handler(payload, consumer);
      seen.push({
        partition: payload.partition,
        offset: payload.message.offset,
        key: payload.message.key,
        value: payload.message.value,
        attempt: payload.attempt,
        memberId: consumer.memberId,
      });
    },
  });
  return { consumer, seen };
}

export function byPartition(seen: Seen[]): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const { partition, offset } of seen) map.set(partition, [...(map.get(partition) ?? []), offset]);
  return map;
}
