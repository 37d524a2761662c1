import { assertInteger } from '../client/brook.options.js';
import { assertValidCodec, jsonCodec, type Codec } from '../codec/codec.js';
import { InvalidArgumentError } from '../errors/errors.js';
import { assertValidName } from '../names/names.js';
import type { DeadLetterOptions, RetryOptions } from '../retry/retry.options.js';
import { definedOnly } from '../client/defined-only.js';

/** Options of `brook.consumer()`. */
export interface ConsumerOptions {
  /** The consumer group: members of one group share the partitions of the topics they subscribe to. */
  group: string;
  /**
   * A member silent this long is dropped and its partitions move; also the partition lease time.
   * A member that could not renew a lease stops that partition's handlers (their `signal` aborts)
   * shortly before it runs out. @defaultValue `10_000`
   */
  sessionTimeoutMs?: number;
  /** How often a member heartbeats and renews its leases; must be at most a third of the session timeout. @defaultValue `1_000` */
  heartbeatIntervalMs?: number;
  /** Messages read per partition per fetch. @defaultValue `500` */
  maxBatchSize?: number;
  /** Bytes one fetch reads over all partitions (at least one message), as KafkaJS's `maxBytes`. @defaultValue `10_485_760` */
  maxBytes?: number;
  /** Bytes one fetch reads, and a partition holds in memory, per partition (at least one message). @defaultValue `1_048_576` */
  maxBytesPerPartition?: number;
  /** Longest a blocking read waits for new messages before it is renewed. @defaultValue `5_000` */
  maxWaitTimeMs?: number;
  /** On Redis Cluster, where reads cannot block across partitions, the longest pause between polls of idle partitions. @defaultValue `100` */
  pollIntervalMs?: number;
  /** Decodes message values written with a codec (strings and Buffers need none). @defaultValue JSON */
  codec?: Codec;
}

export type ResolvedConsumerOptions = Readonly<Required<ConsumerOptions>>;

export const DEFAULT_CONSUMER_OPTIONS = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  maxBatchSize: 500,
  maxBytes: 10_485_760,
  maxBytesPerPartition: 1_048_576,
  maxWaitTimeMs: 5_000,
  pollIntervalMs: 100,
  codec: jsonCodec,
} satisfies Omit<ResolvedConsumerOptions, 'group'>;

export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError("consumer() needs options, e.g. brook.consumer({ group: 'billing' }).");
  }
  assertValidName('group', options.group);
  const resolved = { ...DEFAULT_CONSUMER_OPTIONS, ...definedOnly(options) } as Required<ConsumerOptions>;
  assertInteger('sessionTimeoutMs', resolved.sessionTimeoutMs, 100, 3_600_000);
  assertInteger('heartbeatIntervalMs', resolved.heartbeatIntervalMs, 10, Math.floor(resolved.sessionTimeoutMs / 3));
  assertInteger('maxBatchSize', resolved.maxBatchSize, 1, 100_000);
  assertInteger('maxBytesPerPartition', resolved.maxBytesPerPartition, 1, 1_073_741_824);
  assertInteger('maxBytes', resolved.maxBytes, 1, 1_073_741_824);
  assertInteger('maxWaitTimeMs', resolved.maxWaitTimeMs, 1, 600_000);
  assertInteger('pollIntervalMs', resolved.pollIntervalMs, 1, 60_000);
  assertValidCodec(resolved.codec);
  return Object.freeze(resolved);
}

/** What `subscribe` takes. */
export interface SubscribeOptions {
  /** One topic… */
  topic?: string;
  /** …or several. */
  topics?: string[];
  /** Where a group new to the topic starts: the oldest message (`true`) or the log end. @defaultValue `false` */
  fromBeginning?: boolean;
  /** Retry policy for these topics, over the one passed to `run`. */
  retry?: RetryOptions;
  /** Dead-lettering for these topics, over the one passed to `run`. */
  deadLetter?: DeadLetterOptions;
  /** Names the handler of these topics in dead letters, over the one passed to `run`. */
  handlerName?: string;
}
