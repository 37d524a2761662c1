/**
 * The consuming side of bench/latency.ts, in a process of its own. Each message value carries
 * `sentAtUs` and `phase`; this process records (receive time − sentAtUs) per phase. Both times come
 * from the machine's monotonic clock (process.hrtime), which every process on the machine shares.
 *
 * Configured through the environment: LATENCY_MODE (`brook` or `raw`), REDIS_URL, PREFIX, TOPIC, GROUP,
 * ORDERING (brook mode: `partition`, the default, or `key`, which runs at CONCURRENCY handlers in
 * flight), LOGS (comma-separated stream keys, raw mode). Talks to its parent over IPC: sends
 * `{ type: 'ready' }`, answers `'counts'` with messages received per phase and `'report'` with the
 * latencies of each phase in microseconds, and exits on `'stop'`.
 */
import { Redis } from 'ioredis';
import { Brook } from '@brook/broker';

export interface LatencyValue {
  sentAtUs: number;
  phase: string;
}

export type LatencyReply = { type: 'ready' } | { type: 'counts'; counts: Record<string, number> } | { type: 'report'; latenciesUs: Record<string, number[]> };

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`latency consumer needs ${name}`);
  return value;
};

export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1_000n);
}

const latencies = new Map<string, number[]>();

function record(value: LatencyValue): void {
  const latencyUs = nowUs() - value.sentAtUs;
  let list = latencies.get(value.phase);
  if (list === undefined) latencies.set(value.phase, (list = []));
  list.push(latencyUs);
}

async function runBrook(): Promise<() => Promise<void>> {
  const brook = new Brook({ redis: env('REDIS_URL'), prefix: env('PREFIX'), clientId: 'latency', logger: { debug() {}, info() {}, warn() {}, error() {} } });
  const consumer = brook.consumer({ group: env('GROUP') });
  await consumer.subscribe({ topic: env('TOPIC'), fromBeginning: true });
  const eachMessage = async ({ message }: { message: { value: unknown } }) => record(message.value as LatencyValue);
  await consumer.run(process.env.ORDERING === 'key' ? { ordering: 'key', concurrency: Number(env('CONCURRENCY')), eachMessage } : { eachMessage });
  return () => brook.close();
}

/** The baseline: one blocking XREADGROUP over every partition, JSON-decoding each value, XACK per batch. */
async function runRaw(): Promise<() => Promise<void>> {
  const redis = new Redis(env('REDIS_URL'));
  const logs = env('LOGS').split(',');
  const group = env('GROUP');
  await Promise.all(logs.map((log) => redis.xgroup('CREATE', log, group, '$', 'MKSTREAM')));
  let running = true;
  const loop = (async () => {
    while (running) {
      const reply = (await redis.xreadgroup('GROUP', group, 'c', 'COUNT', 100, 'BLOCK', 1_000, 'STREAMS', ...logs, ...logs.map(() => '>'))) as Array<
        [string, Array<[string, string[]]>]
      > | null;
      if (reply === null) continue;
      const pipeline = redis.pipeline();
      for (const [log, entries] of reply) {
        for (const [, fields] of entries) {
          for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'v') record(JSON.parse(fields[i + 1]) as LatencyValue);
        }
        if (entries.length > 0) pipeline.xack(log, group, ...entries.map(([id]) => id));
      }
      // Not awaited: the acknowledgements go out ahead of the next read on the same connection.
      void pipeline.exec();
    }
  })();
  return async () => {
    running = false;
    await loop;
    redis.disconnect();
  };
}

if (process.env.LATENCY_MODE !== undefined) {
  const close = await (env('LATENCY_MODE') === 'raw' ? runRaw() : runBrook());
  const send = (reply: LatencyReply) => process.send?.(reply);
  process.on('message', (message) => {
    if (message === 'counts') send({ type: 'counts', counts: Object.fromEntries([...latencies].map(([phase, list]) => [phase, list.length])) });
    if (message === 'report') send({ type: 'report', latenciesUs: Object.fromEntries(latencies) });
    if (message === 'stop') void close().then(() => process.exit(0));
  });
  send({ type: 'ready' });
}
