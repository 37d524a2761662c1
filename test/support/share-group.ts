import type { Redis } from 'ioredis';
import type { Brook, ShareConsumer, ShareConsumerOptions, ShareMessageHandler, ShareRunOptions } from '@brook/broker';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import type { ShareRunLog } from './share-runs.js';

export interface ShareMemberOptions extends Partial<ShareConsumerOptions> {
  group: string;
  topic: string;
  /** Names the member in the run log. */
  member: string;
  log: ShareRunLog;
  concurrency?: number;
  retry?: ShareRunOptions['retry'];
  /** Names the handler in dead letters (the run log's wrapper hides the function's own name). */
  handlerName?: string;
  handler?: ShareMessageHandler;
  /** Called before run(), to attach listeners that must not miss an event. */
  prepare?: (consumer: ShareConsumer) => void;
}

/** Starts a share consumer in this process whose runs (and 'lock.lost' events) go to `log`. */
export async function startShareConsumer(brook: Brook, options: ShareMemberOptions): Promise<ShareConsumer> {
  const { topic, member, log, concurrency, retry, handlerName, handler = async () => undefined, prepare, ...consumerOptions } = options;
  const consumer = brook.shareConsumer(consumerOptions);
  log.watch(member, consumer);
  prepare?.(consumer);
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ concurrency, retry, handlerName, eachMessage: log.wrap(member, consumer, handler) });
  return consumer;
}

/** The group's totals over every partition of `topic`, from describeGroup. */
export async function groupTotals(brook: Brook, group: string, topic: string) {
  const description = await brook.admin().describeGroup({ group, topic });
  const sum = (pick: (p: (typeof description.partitions)[number]) => number) => description.partitions.reduce((total, p) => total + pick(p), 0);
  return {
    description,
    lag: sum((p) => p.lag ?? 0),
    positioned: description.partitions.every((p) => p.lag !== null),
    pending: sum((p) => p.pending),
    processed: sum((p) => p.counters.processed),
    failed: sum((p) => p.counters.failed),
    retried: sum((p) => p.counters.retried),
    deadLettered: sum((p) => p.counters.deadLettered),
  };
}

/** A record pending in the share group: acquired by `owner`, delivered `deliveries` times. */
export interface PendingRecord {
  partition: number;
  offset: number;
  owner: string;
  deliveries: number;
}

/** The group's pending records on every partition (optionally only those of one member), straight from XPENDING. */
export async function pendingRecords(redis: Redis, prefix: string, topic: string, partitions: number, group: string, owner?: string): Promise<PendingRecord[]> {
  const keys = new KeySpace(prefix);
  const all: PendingRecord[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    const args: Array<string | number> = [keys.log(topic, partition), group, '-', '+', 10_000, ...(owner === undefined ? [] : [owner])];
    const rows = (await redis.call('XPENDING', ...args).catch(() => [])) as Array<[string, string, number, number]>;
    for (const [id, consumer, , deliveries] of rows) all.push({ partition, offset: Number(id.split('-')[1]) - 1, owner: consumer, deliveries });
  }
  return all;
}

/** A promise the test opens: handlers await it. */
export function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Resolves after `ms`: a handler's stand-in for I/O, never a test's wait for a condition. */
export function ioDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
