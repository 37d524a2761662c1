/**
 * Attribute names of OpenTelemetry's messaging semantic conventions, and Brook's own under
 * `messaging.brook.*` (as Kafka's live under `messaging.kafka.*`).
 */
export const MESSAGING = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  group: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  offset: 'messaging.brook.offset',
  key: 'messaging.brook.message.key',
} as const;

/** The value of `messaging.system` on Brook's spans. */
export const MESSAGING_SYSTEM = 'brook';

/** Names of the span events a failed attempt leads to. */
export const TRACE_EVENTS = {
  retry: 'brook.retry',
  deadLetter: 'brook.dead_letter',
} as const;
