import { assertInteger } from '../client/brook.options.js';
import { assertValidCodec, jsonCodec, type Codec } from '../codec/codec.js';
import { InvalidArgumentError } from '../errors/errors.js';
import type { Acks } from '../message/message.js';
import { MAX_PARTITIONS } from '../topics/topic.js';

/** Options of `brook.producer()`. */
export interface ProducerOptions {
  /** `'none'`: do not wait; `'leader'`: the Redis primary stored it; `'all'`: `WAIT` for `minInSyncReplicas` replicas too. @defaultValue `'leader'` */
  acks?: Acks;
  /** Replicas that must confirm an `acks: 'all'` write. @defaultValue `1` */
  minInSyncReplicas?: number;
  /** How long `acks: 'all'` waits for the replicas. @defaultValue `5_000` */
  ackTimeoutMs?: number;
  /** Create unknown topics on first send instead of failing with `UnknownTopicError`. @defaultValue `false` */
  allowAutoTopicCreation?: boolean;
  /** Partitions of auto-created topics. @defaultValue `1` */
  autoTopicPartitions?: number;
  /** Largest message (key + headers + value bytes) accepted; larger ones are refused before anything is sent. @defaultValue `1_048_576` */
  maxMessageBytes?: number;
  /** Encodes values that are not strings or Buffers. @defaultValue JSON */
  codec?: Codec;
  /** Messages per atomic append script; bigger partition batches are split. @defaultValue `1_000` */
  maxBatchMessages?: number;
}

export type ResolvedProducerOptions = Readonly<Required<ProducerOptions>>;

export const DEFAULT_PRODUCER_OPTIONS = {
  acks: 'leader',
  minInSyncReplicas: 1,
  ackTimeoutMs: 5_000,
  allowAutoTopicCreation: false,
  autoTopicPartitions: 1,
  maxMessageBytes: 1_048_576,
  codec: jsonCodec,
  maxBatchMessages: 1_000,
} satisfies ResolvedProducerOptions;

const ACKS: readonly Acks[] = ['none', 'leader', 'all'];

export function resolveProducerOptions(options: ProducerOptions = {}): ResolvedProducerOptions {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('producer() options must be an object.');
  const resolved = { ...DEFAULT_PRODUCER_OPTIONS, ...stripUndefined(options) };
  if (!ACKS.includes(resolved.acks)) {
    throw new InvalidArgumentError(`acks must be 'none', 'leader' or 'all'; got ${JSON.stringify(resolved.acks)}.`);
  }
  assertInteger('minInSyncReplicas', resolved.minInSyncReplicas, 1, 100);
  assertInteger('ackTimeoutMs', resolved.ackTimeoutMs, 1, 600_000);
  assertInteger('autoTopicPartitions', resolved.autoTopicPartitions, 1, MAX_PARTITIONS);
  assertInteger('maxMessageBytes', resolved.maxMessageBytes, 1, 512 * 1_048_576);
  assertInteger('maxBatchMessages', resolved.maxBatchMessages, 1, 100_000);
  if (typeof resolved.allowAutoTopicCreation !== 'boolean') throw new InvalidArgumentError('allowAutoTopicCreation must be a boolean.');
  assertValidCodec(resolved.codec);
  return Object.freeze(resolved);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
