import { assertInteger } from '../client/brook.options.js';
import { assertValidCodec, jsonCodec, type Codec } from '../codec/codec.js';
import { InvalidArgumentError } from '../errors/errors.js';
import type { Acks } from '../message/message.js';
import { definedOnly } from '../client/defined-only.js';
import { MAX_PARTITIONS } from '../topics/topic.js';

/** How far an explicit message timestamp may lie from the Redis clock. */
export interface TimestampWindow {
  /** Largest distance into the future; `null` for unlimited. @defaultValue `3_600_000` (one hour) */
  aheadMs?: number | null;
  /** Largest age; `null` for unlimited. @defaultValue `null` */
  behindMs?: number | null;
}

/** Options of `brook.producer()`. */
export interface ProducerOptions {
  /** `'none'`: do not wait; `'leader'`: the Redis primary stored it; `'all'`: `WAIT` for `minInSyncReplicas` replicas too. @defaultValue `'leader'` */
  acks?: Acks;
  /** Replicas that must be in sync before an `acks: 'all'` write is appended, and must confirm it after. @defaultValue `1` */
  minInSyncReplicas?: number;
  /** How long `acks: 'all'` waits for the replicas. @defaultValue `5_000` */
  ackTimeoutMs?: number;
  /**
   * Names this producer across restarts, like Kafka's `transactional.id`: a new instance with the
   * same id fences the older one, whose later sends fail with `ProducerFencedError`. Leave unset
   * for a producer of its own (a random id; repeats are still recognised).
   * @defaultValue a random id
   */
  producerId?: string;
  /** Create unknown topics on first send instead of failing with `UnknownTopicError`. @defaultValue `false` */
  allowAutoTopicCreation?: boolean;
  /** Partitions of auto-created topics. @defaultValue `1` */
  autoTopicPartitions?: number;
  /** Largest message (key + headers + value bytes) accepted; larger ones are refused before anything is sent. @defaultValue `1_048_576` */
  maxMessageBytes?: number;
  /** Encodes values that are not strings or Buffers. @defaultValue JSON */
  codec?: Codec;
  /** Messages per append script; bigger partition batches are split. @defaultValue `1_000` */
  maxBatchMessages?: number;
  /** Bytes per append script (at least one message), so one append never holds Redis up for long. @defaultValue `1_048_576` */
  maxBatchBytes?: number;
  /**
   * Bytes of messages sent but not yet written (queued through an outage, or in flight); a send
   * beyond it rejects at once with `ProducerQueueFullError`. @defaultValue `67_108_864` (64 MiB)
   */
  maxQueuedBytes?: number;
  /**
   * The most time a send takes, counted from the call: while Redis is unreachable the send waits
   * queued (and its batch is retried), then rejects with `DeliveryTimeoutError`. @defaultValue `30_000`
   */
  deliveryTimeoutMs?: number;
  /** Accepted range of explicit message timestamps around the Redis clock; others are refused with `InvalidTimestampError`. */
  timestampWindow?: TimestampWindow;
}

/** Options with every default applied. */
export interface ResolvedProducerOptions {
  readonly acks: Acks;
  readonly minInSyncReplicas: number;
  readonly ackTimeoutMs: number;
  readonly producerId: string | null;
  readonly allowAutoTopicCreation: boolean;
  readonly autoTopicPartitions: number;
  readonly maxMessageBytes: number;
  readonly codec: Codec;
  readonly maxBatchMessages: number;
  readonly maxBatchBytes: number;
  readonly maxQueuedBytes: number;
  readonly deliveryTimeoutMs: number;
  readonly timestampWindow: Readonly<{ aheadMs: number | null; behindMs: number | null }>;
}

export const DEFAULT_PRODUCER_OPTIONS = {
  acks: 'leader',
  minInSyncReplicas: 1,
  ackTimeoutMs: 5_000,
  producerId: null,
  allowAutoTopicCreation: false,
  autoTopicPartitions: 1,
  maxMessageBytes: 1_048_576,
  codec: jsonCodec,
  maxBatchMessages: 1_000,
  maxBatchBytes: 1_048_576,
  maxQueuedBytes: 67_108_864,
  deliveryTimeoutMs: 30_000,
  timestampWindow: { aheadMs: 3_600_000, behindMs: null },
} satisfies ResolvedProducerOptions;

const ACKS: readonly Acks[] = ['none', 'leader', 'all'];
const PRODUCER_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Validates options, applies defaults and freezes the result; the input is not modified. */
export function resolveProducerOptions(options: ProducerOptions = {}): ResolvedProducerOptions {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('producer() options must be an object.');
  const { timestampWindow, ...rest } = options;
  const resolved = { ...DEFAULT_PRODUCER_OPTIONS, ...definedOnly(rest) };
  if (!ACKS.includes(resolved.acks)) {
    throw new InvalidArgumentError(`acks must be 'none', 'leader' or 'all'; got ${JSON.stringify(resolved.acks)}.`);
  }
  assertInteger('minInSyncReplicas', resolved.minInSyncReplicas, 1, 100);
  assertInteger('ackTimeoutMs', resolved.ackTimeoutMs, 1, 600_000);
  assertInteger('autoTopicPartitions', resolved.autoTopicPartitions, 1, MAX_PARTITIONS);
  assertInteger('maxMessageBytes', resolved.maxMessageBytes, 1, 512 * 1_048_576);
  assertInteger('maxBatchMessages', resolved.maxBatchMessages, 1, 100_000);
  assertInteger('maxBatchBytes', resolved.maxBatchBytes, 1, 512 * 1_048_576);
  assertInteger('maxQueuedBytes', resolved.maxQueuedBytes, 1, Number.MAX_SAFE_INTEGER);
  assertInteger('deliveryTimeoutMs', resolved.deliveryTimeoutMs, 1, 86_400_000);
  if (resolved.producerId !== null && (typeof resolved.producerId !== 'string' || !PRODUCER_ID.test(resolved.producerId))) {
    throw new InvalidArgumentError(`producerId must be 1 to 100 of A-Z, a-z, 0-9, '.', '_', '-'; got ${JSON.stringify(resolved.producerId)}.`);
  }
  if (typeof resolved.allowAutoTopicCreation !== 'boolean') throw new InvalidArgumentError('allowAutoTopicCreation must be a boolean.');
  assertValidCodec(resolved.codec);
  return Object.freeze({ ...resolved, timestampWindow: resolveWindow(timestampWindow) });
}

function resolveWindow(window: TimestampWindow | undefined): ResolvedProducerOptions['timestampWindow'] {
  if (window === undefined) return DEFAULT_PRODUCER_OPTIONS.timestampWindow;
  if (window === null || typeof window !== 'object') throw new InvalidArgumentError('timestampWindow must be an object like { aheadMs, behindMs }.');
  const aheadMs = window.aheadMs === undefined ? DEFAULT_PRODUCER_OPTIONS.timestampWindow.aheadMs : window.aheadMs;
  const behindMs = window.behindMs === undefined ? DEFAULT_PRODUCER_OPTIONS.timestampWindow.behindMs : window.behindMs;
  if (aheadMs !== null) assertInteger('timestampWindow.aheadMs', aheadMs, 0);
  if (behindMs !== null) assertInteger('timestampWindow.behindMs', behindMs, 0);
  return Object.freeze({ aheadMs, behindMs });
}
