/**
 * A consumer group member in its own process running one of the parallel modes, for tests that
 * kill members mid-handler. Every handler run is logged to one Redis list, which is the clock all
 * members share: the list's order is the order in which runs started and ended.
 *
 * Configured through the environment: REDIS_URL, PREFIX, TOPIC, GROUP, MEMBER, EVENTS (the list),
 * SESSION_MS, HEARTBEAT_MS, HANDLER (`each-message` or `each-batch`), ORDERING, CONCURRENCY,
 * HANDLER_MIN_MS / HANDLER_MAX_MS (a handler's I/O time, drawn evenly), MAX_BATCH_SIZE, and for
 * `each-batch` HANG_AT_OFFSET: a batch holding that offset resolves the offsets before it and then
 * never returns.
 *
 * Events, as JSON: `{ e: 'start' | 'end', m, p, o, k, s, a }` around each eachMessage run (with the
 * member's in-flight count in the hash `<EVENTS>:in-flight`), `{ e: 'batch' | 'batch-end', m, p,
 * offsets }` around each eachBatch run, `{ e: 'resolved', m, p, upTo }` before a batch hangs.
 */
import { Redis } from 'ioredis';
import { env, ioTime, send, stopOnRequest } from './member-child.js';
import { Brook, type Ordering } from '@brook/broker';

const member = env('MEMBER');
const eventsKey = env('EVENTS');
const inFlightKey = `${eventsKey}:in-flight`;
const minMs = Number(env('HANDLER_MIN_MS', '0'));
const maxMs = Number(env('HANDLER_MAX_MS', String(minMs)));
const hangAt = process.env.HANG_AT_OFFSET === undefined ? undefined : Number(process.env.HANG_AT_OFFSET);

const recorder = new Redis(env('REDIS_URL'));
const brook = new Brook({ redis: env('REDIS_URL'), prefix: env('PREFIX'), clientId: member, logger: { debug() {}, info() {}, warn() {}, error() {} } });
const consumer = brook.consumer({
  group: env('GROUP'),
  sessionTimeoutMs: Number(env('SESSION_MS', '1500')),
  heartbeatIntervalMs: Number(env('HEARTBEAT_MS', '100')),
  maxBatchSize: Number(env('MAX_BATCH_SIZE', '500')),
});
consumer.on('partition.lost', (event) => send({ type: 'lost', ...event }));
consumer.on('crash', (event) => send({ type: 'crash', error: String(event.error) }));

const log = (event: Record<string, unknown>) => recorder.rpush(eventsKey, JSON.stringify({ m: member, ...event }));

await consumer.subscribe({ topic: env('TOPIC'), fromBeginning: true });
if (env('HANDLER', 'each-message') === 'each-message') {
  await consumer.run({
    ordering: env('ORDERING', 'key') as Ordering,
    concurrency: Number(env('CONCURRENCY', '100')),
    eachMessage: async ({ partition, message, attempt }) => {
      const run = { p: partition, o: message.offset, k: message.key, s: (message.value as { seq: number }).seq, a: attempt };
      await recorder.multi().rpush(eventsKey, JSON.stringify({ e: 'start', m: member, ...run })).hincrby(inFlightKey, member, 1).exec();
      await ioTime(minMs, maxMs);
      await recorder.multi().rpush(eventsKey, JSON.stringify({ e: 'end', m: member, ...run })).hincrby(inFlightKey, member, -1).exec();
    },
  });
} else {
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset }) => {
      const offsets = batch.messages.map((message) => message.offset);
      await log({ e: 'batch', p: batch.partition, offsets });
      await ioTime(minMs, maxMs);
      if (hangAt !== undefined && offsets.includes(hangAt)) {
        if (hangAt > batch.firstOffset()) resolveOffset(hangAt - 1);
        await log({ e: 'resolved', p: batch.partition, upTo: hangAt - 1 });
        send({ type: 'hanging', offsets });
        await new Promise(() => undefined);
      }
      await log({ e: 'batch-end', p: batch.partition, offsets });
    },
  });
}
send({ type: 'ready', memberId: consumer.memberId });

stopOnRequest(async () => {
  await consumer.stop();
  await brook.close();
  recorder.disconnect();
});
