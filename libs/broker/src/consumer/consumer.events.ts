import type { BrokerError } from '../errors/errors.js';
import type { DeadLetterEvent, LossReason, RetryEvent } from './partition-worker.js';
import type { TopicPartitions } from './topic-partition.js';

/** Events a consumer emits, with their payloads. */
export interface ConsumerEvents {
  /** The member joined, or the group's assignment changed (new generation). */
  'group.join': [{ group: string; memberId: string; generation: number; members: number; assigned: TopicPartitions[] }];
  /** This member started or stopped processing partitions. */
  rebalance: [{ assigned: TopicPartitions[]; revoked: TopicPartitions[] }];
  /** The member lost a partition without giving it up: its lease expired or the topic was deleted. */
  'partition.lost': [{ topic: string; partition: number; reason: LossReason }];
  /** Retention removed messages before this group read them; they were skipped. */
  skipped: [{ topic: string; partition: number; offsets: number[]; reason: 'retention' }];
  /** A handler failed; the message will be tried again after `delayMs`. */
  retry: [RetryEvent];
  /** A message went to the group's dead-letter topic. */
  'dead-letter': [DeadLetterEvent];
  /** A Redis call failed; the consumer retries by itself. */
  'request.error': [{ operation: string; error: BrokerError }];
  /** The consumer hit an unexpected internal error and stopped. */
  crash: [{ error: unknown }];
  /** The consumer stopped and left its group. */
  stop: [];
}
