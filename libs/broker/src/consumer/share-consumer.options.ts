import { assertInteger } from '../client/brook.options.js';
import { InvalidArgumentError } from '../errors/errors.js';
import { assertValidName } from '../names/names.js';
import type { Codec } from '../codec/codec.js';
import { assertValidCodec, jsonCodec } from '../codec/codec.js';

/** Options of `brook.shareConsumer()`. */
export interface ShareConsumerOptions {
  /** The share group. A name is either a share group or an exclusive consumer group, never both. */
  group: string;
  /**
   * How long a record stays acquired by the member that got it before any member may acquire it
   * again (Kafka's `group.share.record.lock.duration.ms`). A handler that needs longer calls
   * `renewLock()`. @defaultValue `30_000`
   */
  acquisitionLockMs?: number;
  /** Deliveries of a record before it is dead-lettered (Kafka's `group.share.delivery.count.limit`). @defaultValue `5` */
  deliveryLimit?: number;
  /** Records acquired per partition per read. @defaultValue `100` */
  maxBatchSize?: number;
  /** Bytes acquired per partition per read (at least one record). @defaultValue `1_048_576` */
  maxBytesPerPartition?: number;
  /** Longest wait between reads while there is nothing to acquire. @defaultValue `100` */
  pollIntervalMs?: number;
  /** Decodes values (as the producers encoded them). @defaultValue JSON */
  codec?: Codec;
}

export type ResolvedShareConsumerOptions = Required<ShareConsumerOptions>;

const DEFAULTS = {
  acquisitionLockMs: 30_000,
  deliveryLimit: 5,
  maxBatchSize: 100,
  maxBytesPerPartition: 1_048_576,
  pollIntervalMs: 100,
  codec: jsonCodec,
} as const;

export function resolveShareConsumerOptions(options: ShareConsumerOptions): ResolvedShareConsumerOptions {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError("shareConsumer needs { group }, e.g. brook.shareConsumer({ group: 'mailers' }).");
  assertValidName('group', options.group);
  const resolved = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) } as ResolvedShareConsumerOptions;
  assertInteger('acquisitionLockMs', resolved.acquisitionLockMs, 100, 3_600_000);
  assertInteger('deliveryLimit', resolved.deliveryLimit, 1, 1_000);
  assertInteger('maxBatchSize', resolved.maxBatchSize, 1, 10_000);
  assertInteger('maxBytesPerPartition', resolved.maxBytesPerPartition, 1, 1_073_741_824);
  assertInteger('pollIntervalMs', resolved.pollIntervalMs, 1, 60_000);
  assertValidCodec(resolved.codec);
  return resolved;
}
