/**
 * One client process of bench/scale.ts: a producer or a consumer-group member on a Redis Cluster,
 * as a deployment runs one per shard.
 *
 * Configured through the environment: SCALE_MODE (`produce` or `consume`), SCALE_CONNECTION (the
 * Cluster connection as JSON), PREFIX, TOPIC, and for `produce` COUNT (messages to send) and
 * OFFSET (the first message number, so every process sends different keys), for `consume` GROUP.
 * Talks to its parent over IPC: sends `{ type: 'ready' }` once connected, starts on `'go'`; a
 * producer then sends `{ type: 'done', cpuMs }`, a consumer `{ type: 'handled', count }` every
 * 20 ms while its count grows and `{ type: 'cpu', cpuMs }` on `'stop'`, then exits.
 */
import { Brook, type RedisConnection } from '@brook/broker';
import { sampleOrder } from './bench-redis.js';

export type ScaleClientReply = { type: 'ready' } | { type: 'done'; cpuMs: number } | { type: 'handled'; count: number } | { type: 'cpu'; cpuMs: number };

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`scale client needs ${name}`);
  return value;
};
const send = (reply: ScaleClientReply) => process.send?.(reply);
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1_000;
};

const BATCH = 1_000;
const mode = env('SCALE_MODE');
const topic = env('TOPIC');
const brook = new Brook({
  redis: JSON.parse(env('SCALE_CONNECTION')) as RedisConnection,
  clientId: `bench-scale-${mode}`,
  prefix: env('PREFIX'),
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});
// Connected and the topic's metadata read before the clock starts.
await brook.admin().describeTopic(topic);
const go = new Promise<void>((resolve) => process.on('message', (message) => message === 'go' && resolve()));
send({ type: 'ready' });
await go;

if (mode === 'produce') {
  const count = Number(env('COUNT'));
  const offset = Number(env('OFFSET'));
  const producer = brook.producer({ acks: 'leader' });
  const before = cpuMs();
  for (let sent = 0; sent < count; sent += BATCH) {
    const messages = Array.from({ length: Math.min(BATCH, count - sent) }, (_, i) => {
      const n = offset + sent + i;
      return { key: `customer-${n % 5_000}`, value: sampleOrder(n) };
    });
    await producer.send({ topic, messages });
  }
  send({ type: 'done', cpuMs: cpuMs() - before });
  await brook.close();
  process.exit(0);
} else {
  const consumer = brook.consumer({ group: env('GROUP') });
  let handled = 0;
  let reported = 0;
  const before = cpuMs();
  const timer = setInterval(() => {
    if (handled === reported) return;
    reported = handled;
    send({ type: 'handled', count: handled });
  }, 20);
  process.on('message', (message) => {
    if (message !== 'stop') return;
    clearInterval(timer);
    send({ type: 'cpu', cpuMs: cpuMs() - before });
    void consumer
      .stop()
      .then(() => brook.close())
      .then(() => process.exit(0));
  });
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 12,
    eachMessage: async () => {
      handled++;
    },
  });
}
