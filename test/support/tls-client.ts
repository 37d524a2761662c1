/**
 * Produces and consumes through Brook in its own process, so the environment can make Node trust a
 * private CA (`NODE_EXTRA_CA_CERTS`) the way an operator would for a `rediss://` URL.
 *
 * Configured through the environment: REDIS_URL, PREFIX, TOPIC. IPC out: `{ sent, received }`
 * (the values produced and those a consumer group handled), or `{ error }`.
 */
const { Brook } = await import('@brook/broker');

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`tls-client needs ${name}`);
  return value;
};

const brook = new Brook({ redis: env('REDIS_URL'), prefix: env('PREFIX'), clientId: 'tls', logger: { debug() {}, info() {}, warn() {}, error() {} } });
const topic = env('TOPIC');
try {
  await brook.admin().createTopic({ topic, partitions: 2 });
  const sent = ['a', 'b', 'c'];
  await brook.producer().send({ topic, messages: sent.map((value) => ({ key: value, value })) });
  const received: string[] = [];
  const consumer = brook.consumer({ group: 'tls' });
  await consumer.subscribe({ topic, fromBeginning: true });
  const all = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message.value as string);
        if (received.length === sent.length) resolve();
      },
    });
  });
  await all;
  await consumer.stop();
  process.send?.({ sent, received: received.sort() });
} catch (error) {
  process.send?.({ error: String(error) });
} finally {
  await brook.close();
}
