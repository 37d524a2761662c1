/**
 * A consumer group member in its own process, for fault scenarios. Every handler run is recorded
 * as a `RunRecord` in a Redis list on the *recording* Redis (the test suite's own, never the one
 * faults are injected into), with the partition's lease value read right before the handler
 * returns, so the checker can tell runs whose member had already lost the partition.
 *
 * Configured through the environment: REDIS_URL (the deployment under test), RECORD_URL, RECORDS,
 * PREFIX, TOPIC, GROUP, MEMBER, SESSION_MS, HEARTBEAT_MS, HANDLER_MS (how long a handler waits,
 * honouring its signal), CONCURRENCY, ATTEMPTS, BACKOFF_MS, RETRY_MODE, CLOCK_SKEW_MS (this
 * process's wall clock runs that far ahead; Brook must not care), MAX_WAIT_MS.
 * Messages whose value has `fail: n` fail their first n attempts; `holdMs: n` makes the handler
 * wait that long (honouring its signal) and report `{ type: 'holding', uid }` when it starts.
 */
import { Redis } from 'ioredis';
import { RedisHistory, type RunRecord } from './history.js';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`fault member needs ${name}`);
  return value;
};

// The injected clock: every Date.now() and new Date() of this process, Brook's included, is off
// by CLOCK_SKEW_MS. Records keep the machine's real clock, so the checker compares like with like.
const realNow = Date.now.bind(Date);
const skewMs = Number(env('CLOCK_SKEW_MS', '0'));
if (skewMs !== 0) Date.now = () => realNow() + skewMs;

const { Brook } = await import('@brook/broker');
const send = (message: unknown) => process.send?.(message);
const member = env('MEMBER');
const handlerMs = Number(env('HANDLER_MS', '0'));
const recorder = new Redis(env('RECORD_URL'), { maxRetriesPerRequest: null });
const history = new RedisHistory(recorder, env('RECORDS'));
const deployment = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: 0, retryStrategy: () => 50, enableOfflineQueue: false, commandTimeout: 200 });
deployment.on('error', () => undefined);
const prefix = env('PREFIX');
const topic = env('TOPIC');
const group = env('GROUP');
const brook = new Brook({
  redis: env('REDIS_URL'),
  prefix,
  clientId: member,
  connection: { retries: 1_000, initialBackoffMs: 20, maxBackoffMs: 200 },
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});
const consumer = brook.consumer({
  group,
  sessionTimeoutMs: Number(env('SESSION_MS', '2000')),
  heartbeatIntervalMs: Number(env('HEARTBEAT_MS', '100')),
  maxWaitTimeMs: Number(env('MAX_WAIT_MS', '1000')),
});
consumer.on('rebalance', (event) => send({ type: 'rebalance', at: realNow(), ...event }));
consumer.on('partition.lost', (event) => send({ type: 'lost', at: realNow(), ...event }));
consumer.on('crash', (event) => send({ type: 'crash', error: String(event.error) }));
consumer.on('skipped', ({ partition, from, to, count }) => void history.record({ kind: 'skipped', partition, from, to, count }));
consumer.on('request.error', ({ error }) => {
  if (error.code === 'DATA_LOSS') send({ type: 'data-loss', at: realNow(), message: error.message });
});

await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  partitionsConsumedConcurrently: Number(env('CONCURRENCY', '8')),
  retry: {
    attempts: Number(env('ATTEMPTS', '3')),
    mode: env('RETRY_MODE', 'blocking') as 'blocking' | 'non-blocking',
    backoff: { type: 'fixed', initialMs: Number(env('BACKOFF_MS', '100')), jitter: 0 },
  },
  eachMessage: async ({ partition, message, attempt, signal }) => {
    const startedAt = realNow();
    const value = message.value as { uid: string; key: string; seq: number; fail?: number; holdMs?: number };
    let outcome: RunRecord['outcome'] = 'ok';
    const waitMs = value.holdMs ?? handlerMs;
    if (value.holdMs !== undefined) send({ type: 'holding', uid: value.uid, at: realNow() });
    try {
      if (waitMs > 0) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
      if (signal.aborted) outcome = 'aborted';
      else if ((value.fail ?? 0) >= attempt) outcome = 'error';
    } finally {
      const leaseHolderAtEnd = await deployment.get(`${prefix}:{${topic}:${partition}}:lease:${group}`).catch(() => undefined);
      await history.record({
        kind: 'run', uid: value.uid, key: value.key, seq: value.seq, topic, partition, offset: message.offset,
        member: consumer.memberId, attempt, startedAt, endedAt: realNow(), outcome,
        ...(leaseHolderAtEnd === undefined ? {} : { leaseHolderAtEnd }),
      });
    }
    if (outcome === 'error') throw new Error(`failing attempt ${attempt} of ${value.uid} on purpose`);
    if (outcome === 'aborted') throw signal.reason;
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
  deployment.disconnect();
  send({ type: 'stopped' });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('message', (message) => {
  if (message === 'stop') void shutdown();
});
