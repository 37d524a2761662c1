/**
 * A share-group member in its own process, for tests that kill and freeze members. Its handler
 * runs are logged through ShareRunLog (share-runs.ts) to one Redis list, on the Redis clock.
 *
 * Configured through the environment: REDIS_URL, PREFIX, TOPIC, GROUP, MEMBER, EVENTS (the list),
 * LOCK_MS, CONCURRENCY, DELIVERY_LIMIT, MAX_BATCH_SIZE, HANDLER_MIN_MS / HANDLER_MAX_MS (how long a
 * handler awaits, drawn evenly; it ignores its signal, like a handler stuck in I/O).
 *
 * IPC: sends { type: 'ready', memberId }, { type: 'lock.lost' | 'crash' | 'request.error', … },
 * { type: 'status', acquired } in answer to 'status', { type: 'stopped' } after 'stop'.
 */
import { Redis } from 'ioredis';
import { env, ioTime, send, stopOnRequest } from './member-child.js';
import { Brook } from '@brook/broker';
import { ShareRunLog } from './share-runs.js';

const member = env('MEMBER');
const lockMs = Number(env('LOCK_MS', '2000'));
const minMs = Number(env('HANDLER_MIN_MS', '0'));
const maxMs = Number(env('HANDLER_MAX_MS', String(minMs)));

const recorder = new Redis(env('REDIS_URL'));
const log = new ShareRunLog({ redis: recorder, prefix: env('PREFIX'), topic: env('TOPIC'), group: env('GROUP'), lockMs, key: env('EVENTS') });
const brook = new Brook({ redis: env('REDIS_URL'), prefix: env('PREFIX'), clientId: member, logger: { debug() {}, info() {}, warn() {}, error() {} } });
const consumer = brook.shareConsumer({
  group: env('GROUP'),
  acquisitionLockMs: lockMs,
  deliveryLimit: Number(env('DELIVERY_LIMIT', '5')),
  maxBatchSize: Number(env('MAX_BATCH_SIZE', '100')),
});
log.watch(member, consumer);
consumer.on('lock.lost', (event) => send({ type: 'lock.lost', ...event }));
consumer.on('crash', (event) => send({ type: 'crash', error: String(event.error) }));
consumer.on('request.error', (event) => send({ type: 'request.error', operation: event.operation, error: event.error.message }));

await consumer.subscribe({ topic: env('TOPIC'), fromBeginning: true });
await consumer.run({
  concurrency: Number(env('CONCURRENCY', '20')),
  eachMessage: log.wrap(member, consumer, async () => {
    await ioTime(minMs, maxMs);
  }),
});
send({ type: 'ready', memberId: consumer.memberId });

process.on('message', (message) => {
  if (message === 'status') send({ type: 'status', acquired: consumer.acquired });
});
stopOnRequest(async () => {
  await consumer.stop();
  await brook.close();
  recorder.disconnect();
});
