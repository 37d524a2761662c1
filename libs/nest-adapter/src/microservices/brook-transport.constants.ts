/**
 * Brook's transport id: `@EventPattern(topic, BROOK_TRANSPORT)` binds a handler to the
 * {@link BrookServer} alone in an application with several transports.
 */
export const BROOK_TRANSPORT = Symbol.for('brook.transport');

/** Headers of request-reply messages (the Kafka transport's `kafka_correlationId` and `kafka_replyTopic`). */
export const BrookHeaders = {
  /** Pairs a reply with its request. */
  CORRELATION_ID: 'brook-correlation-id',
  /** Where the `@MessagePattern` handler's reply goes: the requesting client's reply topic. */
  REPLY_TOPIC: 'brook-reply-topic',
} as const;
