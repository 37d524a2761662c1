import { Redis } from 'ioredis';
import { sampleOrder } from './bench-redis.js';

/**
 * The produce baseline: what an application would write by hand — pipelined XADDs of `batch`
 * JSON orders keyed over 5,000 customers, spread over `streams`. Resolves with the elapsed ms;
 * the streams are deleted afterwards.
 */
export async function rawProduceMs(url: string, streams: string[], total: number, batch: number): Promise<number> {
  const redis = new Redis(url);
  const started = performance.now();
  for (let sent = 0; sent < total; sent += batch) {
    const pipeline = redis.pipeline();
    for (let i = 0; i < batch; i++) {
      const n = sent + i;
      pipeline.xadd(streams[n % streams.length], '*', 'k', `customer-${n % 5_000}`, 'v', JSON.stringify(sampleOrder(n)));
    }
    await pipeline.exec();
  }
  const elapsed = performance.now() - started;
  await redis.del(...streams);
  redis.disconnect();
  return elapsed;
}

/**
 * The consume baseline: XREADGROUP over the partition logs with a group of its own, parsing every
 * message's JSON value (and reading a field of it, as Brook's consumer decodes each value), one
 * pipelined XACK per log per read. Resolves with the ms until `total` messages were handled.
 */
export async function rawConsumeMs(url: string, logs: string[], group: string, total: number, readBatch: number): Promise<number> {
  const redis = new Redis(url);
  await Promise.all(logs.map((log) => redis.xgroup('CREATE', log, group, '0')));
  let handled = 0;
  let sink = 0;
  const started = performance.now();
  while (handled < total) {
    const reply = (await redis.xreadgroup('GROUP', group, 'c', 'COUNT', readBatch, 'STREAMS', ...logs, ...logs.map(() => '>'))) as Array<
      [string, Array<[string, string[]]>]
    > | null;
    if (reply === null) continue;
    const pipeline = redis.pipeline();
    for (const [log, entries] of reply) {
      if (entries.length === 0) continue;
      for (const [, fields] of entries) {
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (fields[i] === 'v') sink += (JSON.parse(fields[i + 1]) as { amount: number }).amount;
        }
      }
      handled += entries.length;
      pipeline.xack(log, group, ...entries.map(([id]) => id));
    }
    await pipeline.exec();
  }
  const elapsed = performance.now() - started;
  redis.disconnect();
  if (Number.isNaN(sink)) throw new Error('unreachable');
  return elapsed;
}
