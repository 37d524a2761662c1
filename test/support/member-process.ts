/**
 * A consumer group member in its own process, for tests that kill, freeze and restart members.
 * Every handled message is recorded in a Redis list before the handler resolves, so the list shows
 * exactly what was processed (duplicates included).
 *
 * Configured through the environment: REDIS_URL, PREFIX, TOPIC, GROUP, MEMBER, RECORDS,
 * SESSION_MS, HEARTBEAT_MS, HANDLER_DELAY_MS, CONCURRENCY; for retries ATTEMPTS, BACKOFF_MS and
 * RETRY_MODE. Messages whose value has `poison: true` always fail; each failed attempt is recorded
 * in the list `<RECORDS>:failures`.
 */
import { Redis } from 'ioredis';
import { Brook } from '@brook/broker';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`member process needs ${name}`);
  return value;
};

const member = env('MEMBER');
const recordsKey = env('RECORDS');
const handlerDelayMs = Number(env('HANDLER_DELAY_MS', '0'));
const send = (message: unknown) => process.send?.(message);

const recorder = new Redis(env('REDIS_URL'));
const brook = new Brook({ redis: env('REDIS_URL'), prefix: env('PREFIX'), clientId: member, logger: { debug() {}, info() {}, warn() {}, error() {} } });
const consumer = brook.consumer({
  group: env('GROUP'),
  sessionTimeoutMs: Number(env('SESSION_MS', '2000')),
  heartbeatIntervalMs: Number(env('HEARTBEAT_MS', '100')),
});
consumer.on('rebalance', (event) => send({ type: 'rebalance', at: Date.now(), ...event }));
consumer.on('partition.lost', (event) => send({ type: 'lost', at: Date.now(), ...event }));
consumer.on('crash', (event) => send({ type: 'crash', error: String(event.error) }));

await consumer.subscribe({ topic: env('TOPIC'), fromBeginning: true });
await consumer.run({
  partitionsConsumedConcurrently: Number(env('CONCURRENCY', '8')),
  retry: {
    attempts: Number(env('ATTEMPTS', '3')),
    mode: env('RETRY_MODE', 'blocking') as 'blocking' | 'non-blocking',
    backoff: { type: 'fixed', initialMs: Number(env('BACKOFF_MS', '1000')), jitter: 0 },
  },
  eachMessage: async ({ partition, message, attempt }) => {
    const startedAt = Date.now();
    if (handlerDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, handlerDelayMs));
    const value = message.value as { seq: number; poison?: boolean };
    if (value.poison) {
      await recorder.rpush(`${recordsKey}:failures`, JSON.stringify({ member, partition, offset: message.offset, attempt, at: Date.now() }));
      throw new Error(`poison message at offset ${message.offset}`);
    }
    await recorder.rpush(recordsKey, JSON.stringify({ member, partition, offset: message.offset, key: message.key, seq: value.seq, startedAt, endedAt: Date.now() }));
  },
});
send({ type: 'ready', memberId: consumer.memberId });

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  await consumer.stop();
  await brook.close();
  recorder.disconnect();
  send({ type: 'stopped' });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('message', (message) => {
  if (message === 'stop') void shutdown();
});
