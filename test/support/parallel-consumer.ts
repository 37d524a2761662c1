import type { Brook, Consumer, ConsumerOptions, DeadLetterOptions, EachMessagePayload, Message, Ordering, RetryOptions } from '@brook/broker';
import type { HandlerLog } from './handler-runs.js';

/** Fast group timings for tests of the parallel modes. */
export const FAST_GROUP = { sessionTimeoutMs: 1_000, heartbeatIntervalMs: 50, maxWaitTimeMs: 1_000 } as const;

export interface ParallelConsumerSettings {
  group?: string;
  /** Names the member in the handler log. */
  member?: string;
  ordering: Ordering;
  concurrency?: number;
  retry?: RetryOptions;
  deadLetter?: DeadLetterOptions;
  consumer?: Partial<ConsumerOptions>;
}

/**
 * Starts a consumer with `ordering` and `concurrency` whose handler runs are recorded in `log`
 * (a throw of `handler` is recorded as a failed run).
 */
export async function startParallelConsumer(
  brook: Brook,
  topic: string,
  log: HandlerLog,
  settings: ParallelConsumerSettings,
  handler: (payload: EachMessagePayload) => Promise<void> = async () => undefined,
): Promise<Consumer> {
  const { group = 'billing', member = 'a', ordering, concurrency, retry, deadLetter } = settings;
  const consumer = brook.consumer({ group, ...FAST_GROUP, ...settings.consumer });
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ ordering, concurrency, retry, deadLetter, eachMessage: log.wrap(member, handler) });
  return consumer;
}

/** `count` messages keyed over `keys` keys (`key-0`, `key-1`, …), each value `{ seq }` counting per key from `firstSeqs`. */
export function keyedMessages(count: number, keys: number, seqs: number[] = new Array<number>(keys).fill(0)): Message[] {
  return Array.from({ length: count }, (_, i) => {
    const k = i % keys;
    return { key: `key-${k}`, value: { seq: seqs[k]++ } };
  });
}

/** Sends messages in chunks of 500. */
export async function sendAll(brook: Brook, topic: string, messages: Message[]): Promise<void> {
  const producer = brook.producer();
  for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, messages: messages.slice(i, i + 500) });
}

/** Resolves after `ms`: a handler's stand-in for I/O, never a test's wait for a condition. */
export function ioDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
