export { Brook } from './client/brook.js';
export type { BrookOptions, ResolvedBrookOptions } from './client/brook.options.js';
export { createConsoleLogger, type BrookLogger, type LogLevel } from './client/logger.js';
export type { ClusterConnection, ConnectionSettings, RedisConnection } from './redis/connection.js';
export { DEFAULT_MAX_REPLICA_LAG_BYTES, type DeploymentMode, type Leadership, type RedisNode, type ReplicaStatus } from './redis/topology.js';
export type { ClusterDescription, ClusterNodeDescription, LedPartitions } from './admin/cluster-admin.js';
export type { TopologyOptions } from './admin/topology-read.js';
export { BROOK_ACL_COMMANDS, brookAclRules } from './client/acl-rules.js';

export { Admin } from './admin/admin.js';
export type { CreateTopicRequest, PartitionDescription, RetentionResult, TopicDescription } from './topics/topic-admin.js';
export type { RetentionPolicy, TopicConfig } from './topics/topic.js';
export type { PeekedMessage, ReadMessagesRequest, ReadMessagesResult } from './message/read-messages.js';
export type {
  GroupCounters,
  GroupDescription,
  GroupListing,
  GroupKind,
  GroupPartitionDescription,
  MemberDescription,
  ResetOffsetsRequest,
  ResetTarget,
} from './groups/group-admin.js';
export type { DeleteGroupRequest, DeleteGroupResult } from './groups/group-deletion.js';
export type { LagHistoryRequest, LagSample } from './groups/lag-history.js';

export {
  DeadLetterAdmin,
  REPLAY_PAGE,
  type DeadLetterCount,
  type DeadLetterQuery,
  type DeadLetterSelection,
  type ReplayPreview,
  type ReplayRequest,
  type ReplayResult,
} from './dead-letters/dead-letter-admin.js';
export type { DeadLetterFilter } from './dead-letters/dead-letter-filter.js';
export type { ReplayJobStatus } from './dead-letters/replay-jobs.js';
export type { SkipResult } from './dead-letters/skip-message.js';
export {
  DEFAULT_DEAD_LETTER_RETENTION,
  type DeadLetterRetention,
  type DeadLetterRetentionPolicy,
  type DeadLetterRetentionResult,
} from './dead-letters/dead-letter-retention.js';
export type { DeadLetter } from './dead-letters/dead-letter.js';
export type { AuditEntry } from './dead-letters/audit-log.js';

export { ControllerLease, type ControllerLeaseEvents, type LeaseHolder, type RevokeReason } from './controller/controller-lease.js';
export type { ControllerLeaseOptions } from './controller/controller-lease.options.js';

export { Producer, type ProducerBatch, type ProducerEvents } from './producer/producer.js';
export type { ProducerOptions, TimestampWindow } from './producer/producer.options.js';
export { murmur2, partitionForKey } from './producer/murmur2.js';

export { Consumer } from './consumer/consumer.js';
export type { RunOptions } from './consumer/run-options.js';
export type { ConsumerOptions, SubscribeOptions } from './consumer/consumer.options.js';
export type { ConsumerEvents } from './consumer/consumer.events.js';
export type { EachMessageHandler, EachMessagePayload } from './consumer/message-payload.js';
export type { Batch, EachBatchHandler, EachBatchPayload } from './consumer/batch-runner.js';
export type { Ordering } from './consumer/lanes.js';
export { ShareConsumer, type ShareConsumerEvents, type ShareMessageHandler, type ShareMessagePayload, type ShareRunOptions } from './consumer/share-consumer.js';
export type { ShareConsumerOptions } from './consumer/share-consumer.options.js';
export type { DeadLetterEvent, LossReason, RetryEvent } from './consumer/partition-worker.js';
export type { OffsetRange } from './consumer/gaps.js';
export type { DeadLetterReason } from './dead-letters/dead-letter-record.js';
export type { DeadLetterOptions, RetryOptions } from './retry/retry.options.js';
export type { BackoffPolicy } from './retry/backoff.js';
export type { TopicPartition, TopicPartitions } from './consumer/topic-partition.js';

export { jsonCodec, type Codec } from './codec/codec.js';
export { CORRELATION_ID_HEADER, correlationIdOf } from './tracing/correlation.js';
export type { Acks, Headers, Message, ProducerRecord, ReceivedMessage, RecordMetadata } from './message/message.js';

export {
  BROKER_ERROR_CODES,
  BrokerConnectionError,
  BrokerError,
  ClosedError,
  DataLossError,
  FencedError,
  GroupKindConflictError,
  GroupActiveError,
  HandlerTimeoutError,
  InvalidArgumentError,
  InvalidNameError,
  InvalidTimestampError,
  LeaderNotAvailableError,
  MessageTooLargeError,
  MessageValidationError,
  NonRetriableError,
  NotEnoughReplicasError,
  OutOfOrderSequenceError,
  PartitionOutOfRangeError,
  ProducerFencedError,
  ProducerQueueFullError,
  DeliveryTimeoutError,
  RedisOutOfMemoryError,
  RedisPermissionError,
  RequestTimeoutError,
  TopicConflictError,
  UnknownGroupError,
  UnknownTopicError,
  UnsupportedRedisError,
  type BrokerErrorCode,
} from './errors/errors.js';
export { assertValidName } from './names/names.js';
