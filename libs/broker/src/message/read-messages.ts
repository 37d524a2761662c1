import { assertInteger } from '../client/brook.options.js';
import type { BrookContext } from '../client/context.js';
import { InvalidArgumentError, PartitionOutOfRangeError, UnknownTopicError } from '../errors/errors.js';
import { assertValidName } from '../names/names.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import { displayValue } from './display-value.js';
import type { Headers } from './message.js';
import { SCRIPTS } from '../redis/script-table.js';
import { offsetForTimestamp } from './offset-for-timestamp.js';
import { readEntry } from './wire.js';

/** What `admin.readMessages` takes. */
export interface ReadMessagesRequest {
  topic: string;
  partition: number;
  /** First offset to return; offsets already removed by retention are skipped. @defaultValue `0` */
  offset?: number;
  /**
   * Start instead at the first message whose timestamp is at or after this time (ms since the
   * epoch): its append time on the Redis clock, or its producer's explicit timestamp. Give this or
   * `offset`, not both.
   */
  timestamp?: number;
  /** Most messages to return, at most {@link MAX_READ_MESSAGES}. @defaultValue `100` */
  limit?: number;
}

/** A message as it is stored in a partition, read without consuming it. */
export interface PeekedMessage {
  offset: number;
  key: string | null;
  /** Decoded when it was a string or JSON; the raw bytes otherwise. */
  value: unknown;
  headers: Headers;
  timestamp: number;
  /** How the value was stored: 's' string, 'b' bytes, or the codec name ('json'). */
  encoding: string;
}

/** What `admin.readMessages` returns. */
export interface ReadMessagesResult {
  messages: PeekedMessage[];
  /** Where the next page starts: after the last message returned, or the requested offset when none was. */
  nextOffset: number;
}

/** Upper bound on one `readMessages` page: pages are read in one XRANGE and held in memory. */
export const MAX_READ_MESSAGES = 1_000;

/**
 * Reads up to `limit` messages of a partition from `offset` on, without touching any group's
 * position. Offset `n` is stream ID `0-<n + 1>`, so one XRANGE from that ID is exact.
 */
export async function readMessages(ctx: BrookContext, registry: TopicRegistry, request: ReadMessagesRequest): Promise<ReadMessagesResult> {
  if (request === null || typeof request !== 'object') {
    throw new InvalidArgumentError("readMessages needs { topic, partition }, e.g. readMessages({ topic: 'orders.created', partition: 0, offset: 0, limit: 100 }).");
  }
  const { topic, partition, timestamp, limit = 100 } = request;
  let { offset = 0 } = request;
  assertValidName('topic', topic);
  assertInteger('partition', partition, 0);
  // The stream ID carries offset + 1, which must stay a safe integer.
  assertInteger('offset', offset, 0, Number.MAX_SAFE_INTEGER - 1);
  if (timestamp !== undefined) {
    assertInteger('timestamp', timestamp, 0);
    if (request.offset !== undefined) throw new InvalidArgumentError('readMessages takes offset or timestamp, not both: give { offset } to start at an offset, { timestamp } to start at a time.');
  }
  assertInteger('limit', limit, 1, MAX_READ_MESSAGES);
  await ctx.ready();
  const config = await registry.get(topic, { fresh: true });
  if (config === undefined) throw new UnknownTopicError(topic);
  if (partition >= config.partitions) throw new PartitionOutOfRangeError(topic, partition, config.partitions);

  const key = ctx.keys.log(topic, partition);
  if (timestamp !== undefined) {
    const { highOffset, lowOffset } = await ctx.call(SCRIPTS.partitionOffsets, { topic, partition });
    offset = await offsetForTimestamp(ctx, topic, partition, timestamp, lowOffset, highOffset);
  }
  const entries = (await ctx.run(`read partition ${partition} of '${topic}'`, () => ctx.client.xrangeBuffer(key, `0-${offset + 1}`, '+', 'COUNT', limit))) as Array<
    [Buffer, Buffer[]]
  >;
  const messages = entries.map(([id, fields]): PeekedMessage => {
    const entry = readEntry(fields);
    return {
      offset: Number(id.toString('latin1').slice(2)) - 1,
      key: entry.key,
      value: displayValue(entry.encoding, entry.value),
      headers: entry.headers,
      timestamp: entry.timestamp,
      encoding: entry.encoding,
    };
  });
  return { messages, nextOffset: messages.length > 0 ? messages[messages.length - 1].offset + 1 : offset };
}
