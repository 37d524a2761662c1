import type { BrokerError } from '../errors/errors.js';
import type { OffsetRange } from './gaps.js';
import type { DeadLetterEvent, LossReason, RetryEvent } from './partition-worker.js';
import type { TopicPartitions } from './topic-partition.js';

/** Events a consumer emits, with their payloads. */
export interface ConsumerEvents {
  /** The member joined, or the group's assignment changed (new generation). */
  'group.join': [{ group: string; memberId: string; generation: number; members: number; assigned: TopicPartitions[] }];
  /** This member started or stopped processing partitions. */
  rebalance: [{ assigned: TopicPartitions[]; revoked: TopicPartitions[] }];
  /**
   * The member lost a partition without giving it up (see `LossReason`): fenced, lease run out,
   * topic deleted, or in doubt after a lost connection. Handlers of the partition saw their
   * `signal` abort; the member takes the partition back when it is still assigned to it.
   */
  'partition.lost': [{ topic: string; partition: number; reason: LossReason }];
  /** Retention removed messages before this group read them; they were skipped. One event per run of offsets. */
  skipped: [{ topic: string; partition: number; reason: 'retention' } & OffsetRange];
  /** A handler failed; the message will be tried again after `delayMs`. */
  retry: [RetryEvent];
  /** A message went to the group's dead-letter topic. */
  'dead-letter': [DeadLetterEvent];
  /**
   * A Redis call failed and the consumer retries by itself; or Redis was found to have lost writes
   * (`DataLossError`: a restart from an older snapshot, a failover to a lagging replica).
   */
  'request.error': [{ operation: string; error: BrokerError }];
  /** The consumer hit an unexpected internal error and stopped. */
  crash: [{ error: unknown }];
  /** The consumer stopped and left its group. */
  stop: [];
}
