/**
 * A consumer group member in its own process, like fault-member.ts, for scenarios that need more of
 * it: any deployment (a URL, or `{ cluster: [...] }` for Redis Cluster), several topics each with
 * its own retry policy, consumer options left at their defaults unless given, and probes — its
 * memory on request, and how long `consumer.stop()` and `brook.close()` took.
 *
 * Every handler run is recorded as a `RunRecord` on the recording Redis (never the deployment
 * under test), with the partition's lease value read right before the handler returns; retention
 * gaps are recorded as `skipped` records.
 *
 * Configured through the environment: DEPLOYMENT (JSON of Brook's `redis` option), RECORD_URL,
 * RECORDS, PREFIX, GROUP, MEMBER, TOPICS (JSON `ProbeTopic[]`), CONSUMER (JSON of consumer options
 * over the defaults), HANDLER_MS (how long a handler waits, honouring its signal), CONCURRENCY.
 * Messages whose value has `fail: n` fail their first n attempts; `holdMs: n` makes the handler
 * wait that long and report `{ type: 'holding', uid }` when it starts.
 *
 * IPC in: 'probe' (answers `{ type: 'probe', … }`), 'stop'. IPC out: see `ProbeMemberEvent`.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import type { ConsumerOptions, RedisConnection } from '@brook/broker';
import { RedisHistory, type RunRecord } from './history.js';
import type { ProbeTopic } from './probe-members.js';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`probe member needs ${name}`);
  return value;
};

const { Brook } = await import('@brook/broker');
const send = (message: unknown) => process.send?.(message);
const deployment = JSON.parse(env('DEPLOYMENT')) as RedisConnection;
const prefix = env('PREFIX');
const group = env('GROUP');
const topics = JSON.parse(env('TOPICS')) as ProbeTopic[];
const handlerMs = Number(env('HANDLER_MS', '0'));
const recorder = new Redis(env('RECORD_URL'), { maxRetriesPerRequest: null });
const history = new RedisHistory(recorder, env('RECORDS'));

// Reads lease values for the records; a short timeout, so a frozen shard only leaves them unread.
const readerOptions = { maxRetriesPerRequest: 0, retryStrategy: () => 50, enableOfflineQueue: false, commandTimeout: 200 };
const leaseReader: Redis | Cluster =
  typeof deployment === 'string'
    ? new Redis(deployment, readerOptions)
    : 'cluster' in deployment
      ? new Cluster(deployment.cluster, { redisOptions: { commandTimeout: 200, maxRetriesPerRequest: 0 } })
      : new Redis({ ...deployment, ...readerOptions });
leaseReader.on('error', () => undefined);

const brook = new Brook({ redis: deployment, prefix, clientId: env('MEMBER'), logger: { debug() {}, info() {}, warn() {}, error() {} } });
const consumer = brook.consumer({ group, ...(JSON.parse(env('CONSUMER', '{}')) as Partial<ConsumerOptions>) });
const now = () => Date.now();
consumer.on('rebalance', (event) => send({ type: 'rebalance', at: now(), ...event }));
consumer.on('partition.lost', (event) => send({ type: 'lost', at: now(), ...event }));
consumer.on('crash', (event) => send({ type: 'crash', error: String(event.error) }));
consumer.on('skipped', ({ topic, partition, from, to, count }) => {
  send({ type: 'skipped', at: now(), topic, partition, from, to, count });
  void history.record({ kind: 'skipped', partition, from, to, count });
});
consumer.on('request.error', ({ error }) => {
  if (error.code === 'DATA_LOSS') send({ type: 'data-loss', at: now(), message: error.message });
});

for (const { topic, retryMode, attempts, backoffMs } of topics) {
  await consumer.subscribe({
    topic,
    fromBeginning: true,
    retry: {
      ...(retryMode === undefined ? {} : { mode: retryMode }),
      ...(attempts === undefined ? {} : { attempts }),
      ...(backoffMs === undefined ? {} : { backoff: { type: 'fixed', initialMs: backoffMs, jitter: 0 } }),
    },
  });
}
await consumer.run({
  partitionsConsumedConcurrently: Number(env('CONCURRENCY', '8')),
  eachMessage: async ({ topic, partition, message, attempt, signal }) => {
    const startedAt = now();
    const value = message.value as { uid: string; key: string; seq: number; fail?: number; holdMs?: number };
    let outcome: RunRecord['outcome'] = 'ok';
    const waitMs = value.holdMs ?? handlerMs;
    if (value.holdMs !== undefined) send({ type: 'holding', uid: value.uid, topic, partition, at: now() });
    try {
      if (waitMs > 0) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
      if (signal.aborted) outcome = 'aborted';
      else if ((value.fail ?? 0) >= attempt) outcome = 'error';
    } finally {
      const leaseHolderAtEnd = await leaseReader.get(`${prefix}:{${topic}:${partition}}:lease:${group}`).catch(() => undefined);
      await history.record({
        kind: 'run', uid: value.uid, key: value.key, seq: value.seq, topic, partition, offset: message.offset,
        member: consumer.memberId, attempt, startedAt, endedAt: now(), outcome,
        ...(leaseHolderAtEnd === undefined ? {} : { leaseHolderAtEnd }),
      });
    }
    if (outcome === 'error') throw new Error(`failing attempt ${attempt} of ${value.uid} on purpose`);
    if (outcome === 'aborted') throw signal.reason;
  },
});
send({ type: 'ready', memberId: consumer.memberId });

function probe() {
  const { rss, heapUsed } = process.memoryUsage();
  send({ type: 'probe', rss, heapUsed, maxRss: peakRss() });
}

/**
 * The high-water mark of this program's resident memory. Linux's VmHWM, not getrusage's maxRSS:
 * that one survives exec, so it would report the forking test process's size.
 */
function peakRss(): number {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm === null ? process.resourceUsage().maxRSS * 1_024 : Number(hwm[1]) * 1_024;
}

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  const stopStartedAt = performance.now();
  await consumer.stop();
  const stopMs = performance.now() - stopStartedAt;
  await brook.close();
  const closeMs = performance.now() - stopStartedAt;
  recorder.disconnect();
  leaseReader.disconnect();
  // Exit only once the report is out: IPC sends are asynchronous.
  process.send?.({ type: 'stopped', stopMs, closeMs }, () => process.exit(0));
}
process.on('SIGTERM', () => void shutdown());
process.on('message', (message) => {
  if (message === 'stop') void shutdown();
  if (message === 'probe') probe();
});
