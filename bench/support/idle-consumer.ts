/**
 * The process whose idle cost bench/idle.ts measures: a consumer of every partition of one topic,
 * with nothing to read. IDLE_MODE `brook`: one Brook consumer with default options; `raw`: the
 * baseline, one blocking XREADGROUP loop over the same partition logs with a group of its own.
 *
 * Configured through the environment: IDLE_MODE, REDIS_URL, PREFIX, TOPIC, GROUP, CLIENT_ID, LOGS
 * (comma-separated stream keys, raw mode). Sends `{ type: 'ready' }` and, for Brook,
 * `{ type: 'owned', partitions }` on every rebalance; answers `'cpu'` with process.cpuUsage() and
 * exits on `'stop'`.
 */
import { Redis } from 'ioredis';
import { Brook } from '@brook/broker';

export type IdleReply = { type: 'ready' } | { type: 'owned'; partitions: number } | { type: 'cpu'; usage: NodeJS.CpuUsage };

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`idle consumer needs ${name}`);
  return value;
};
const send = (reply: IdleReply) => process.send?.(reply);

async function runBrook(): Promise<() => Promise<void>> {
  const brook = new Brook({ redis: env('REDIS_URL'), prefix: env('PREFIX'), clientId: env('CLIENT_ID'), logger: { debug() {}, info() {}, warn() {}, error() {} } });
  const consumer = brook.consumer({ group: env('GROUP') });
  let owned = 0;
  consumer.on('rebalance', ({ assigned, revoked }) => {
    for (const { partitions } of assigned) owned += partitions.length;
    for (const { partitions } of revoked) owned -= partitions.length;
    send({ type: 'owned', partitions: owned });
  });
  await consumer.subscribe({ topic: env('TOPIC'), fromBeginning: true });
  await consumer.run({ eachMessage: async () => undefined });
  return () => brook.close();
}

async function runRaw(): Promise<() => Promise<void>> {
  const redis = new Redis(env('REDIS_URL'), { connectionName: `${env('CLIENT_ID')}:raw` });
  const logs = env('LOGS').split(',');
  const group = env('GROUP');
  await Promise.all(logs.map((log) => redis.xgroup('CREATE', log, group, '$')));
  let running = true;
  const loop = (async () => {
    while (running) {
      const reply = (await redis.xreadgroup('GROUP', group, 'c', 'COUNT', 100, 'BLOCK', 5_000, 'STREAMS', ...logs, ...logs.map(() => '>'))) as Array<
        [string, Array<[string, string[]]>]
      > | null;
      for (const [log, entries] of reply ?? []) if (entries.length > 0) await redis.xack(log, group, ...entries.map(([id]) => id));
    }
  })();
  return async () => {
    running = false;
    redis.disconnect();
    await loop.catch(() => undefined);
  };
}

if (process.env.IDLE_MODE !== undefined) {
  const close = await (env('IDLE_MODE') === 'raw' ? runRaw() : runBrook());
  process.on('message', (message) => {
    if (message === 'cpu') send({ type: 'cpu', usage: process.cpuUsage() });
    if (message === 'stop') void close().then(() => process.exit(0));
  });
  send({ type: 'ready' });
}
