/**
 * A consumer group member in its own process, like fault-member.ts, for a deployment that is not
 * a plain URL: DEPLOYMENT is the JSON of Brook's `redis` option (`{ sentinels, name }` for
 * Sentinel), so the member follows a failover. Every handler run is recorded as a `RunRecord` on
 * the recording Redis, with the partition's lease value read (through the same deployment) right
 * before the handler returns.
 *
 * Configured through the environment: DEPLOYMENT, RECORD_URL, RECORDS, PREFIX, TOPIC, GROUP,
 * MEMBER, SESSION_MS, HEARTBEAT_MS, CONCURRENCY, ATTEMPTS, BACKOFF_MS, RETRY_MODE. Messages whose
 * value has `fail: n` fail their first n attempts. IPC out: the events of `ScenarioMemberEvent`.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConnection } from '@brook/broker';
import { RedisHistory, type RunRecord } from './history.js';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`scenario member needs ${name}`);
  return value;
};

const { Brook } = await import('@brook/broker');
const send = (message: unknown) => process.send?.(message);
const deployment = JSON.parse(env('DEPLOYMENT')) as RedisConnection;
const prefix = env('PREFIX');
const topic = env('TOPIC');
const group = env('GROUP');
const recorder = new Redis(env('RECORD_URL'), { maxRetriesPerRequest: null });
const history = new RedisHistory(recorder, env('RECORDS'));
// A short timeout: while Redis is away the lease is simply left unread (and the run not judged).
const leaseOptions: RedisOptions = { maxRetriesPerRequest: 0, retryStrategy: () => 50, enableOfflineQueue: false, commandTimeout: 200 };
const leaseReader = typeof deployment === 'string' ? new Redis(deployment, leaseOptions) : new Redis({ ...(deployment as RedisOptions), ...leaseOptions });
leaseReader.on('error', () => undefined);

const brook = new Brook({
  redis: deployment,
  prefix,
  clientId: env('MEMBER'),
  connection: { retries: 1_000, initialBackoffMs: 20, maxBackoffMs: 200 },
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});
const consumer = brook.consumer({ group, sessionTimeoutMs: Number(env('SESSION_MS', '2000')), heartbeatIntervalMs: Number(env('HEARTBEAT_MS', '100')) });
consumer.on('rebalance', (event) => send({ type: 'rebalance', at: Date.now(), ...event }));
consumer.on('partition.lost', (event) => send({ type: 'lost', at: Date.now(), ...event }));
consumer.on('crash', (event) => send({ type: 'crash', error: String(event.error) }));
consumer.on('request.error', ({ operation, error }) => {
  if (error.code === 'DATA_LOSS') send({ type: 'data-loss', at: Date.now(), message: error.message });
  else send({ type: 'request-error', at: Date.now(), operation, code: error.code });
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
    const startedAt = Date.now();
    const value = message.value as { uid: string; key: string; seq: number; fail?: number };
    let outcome: RunRecord['outcome'] = 'ok';
    if (signal.aborted) outcome = 'aborted';
    else if ((value.fail ?? 0) >= attempt) outcome = 'error';
    const leaseHolderAtEnd = await leaseReader.get(`${prefix}:{${topic}:${partition}}:lease:${group}`).catch(() => undefined);
    await history.record({
      kind: 'run', uid: value.uid, key: value.key, seq: value.seq, topic, partition, offset: message.offset,
      member: consumer.memberId, attempt, startedAt, endedAt: Date.now(), outcome,
      ...(leaseHolderAtEnd === undefined ? {} : { leaseHolderAtEnd }),
    });
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
  leaseReader.disconnect();
  process.send?.({ type: 'stopped' }, () => process.exit(0));
}
process.on('SIGTERM', () => void shutdown());
process.on('message', (message) => {
  if (message === 'stop') void shutdown();
});
