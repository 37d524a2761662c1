/**
 * Every error Brook raises carries a `code` from this closed list, so callers can branch on it
 * without string matching.
 */
export const BROKER_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'INVALID_NAME',
  'UNKNOWN_TOPIC',
  'TOPIC_CONFLICT',
  'PARTITION_OUT_OF_RANGE',
  'MESSAGE_TOO_LARGE',
  'NOT_ENOUGH_REPLICAS',
  'CONNECTION',
  'UNSUPPORTED_REDIS',
  'CLOSED',
  'FENCED',
  'UNKNOWN_GROUP',
  'GROUP_ACTIVE',
  'NON_RETRIABLE',
  'HANDLER_TIMEOUT',
  'INTERNAL',
] as const;

export type BrokerErrorCode = (typeof BROKER_ERROR_CODES)[number];

/** Options shared by every Brook error. */
export interface BrokerErrorOptions {
  /** The error that led to this one. */
  cause?: unknown;
  /** Whether repeating the same call later may succeed. */
  retriable?: boolean;
}

/** Base class of every error Brook raises. */
export class BrokerError extends Error {
  /** Stable machine-readable code. */
  readonly code: BrokerErrorCode;
  /** Whether repeating the same call later may succeed. */
  readonly retriable: boolean;

  constructor(code: BrokerErrorCode, message: string, options: BrokerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** An option or argument has the wrong type or an out-of-range value. */
export class InvalidArgumentError extends BrokerError {
  constructor(message: string, options?: BrokerErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** A topic or group name breaks the naming rules. */
export class InvalidNameError extends BrokerError {
  constructor(message: string) {
    super('INVALID_NAME', message);
  }
}

/** The topic is not registered. */
export class UnknownTopicError extends BrokerError {
  constructor(readonly topic: string, hint = `create it first with admin.createTopic({ topic: '${topic}', partitions })`) {
    super('UNKNOWN_TOPIC', `Topic '${topic}' does not exist; ${hint}.`);
  }
}

/** `createTopic` was called for an existing topic with a different configuration. */
export class TopicConflictError extends BrokerError {
  constructor(message: string) {
    super('TOPIC_CONFLICT', message);
  }
}

/** An explicit partition number is not a partition of the topic. */
export class PartitionOutOfRangeError extends BrokerError {
  constructor(readonly topic: string, readonly partition: unknown, readonly partitions: number) {
    super(
      'PARTITION_OUT_OF_RANGE',
      `Partition ${String(partition)} is out of range for topic '${topic}', which has ${partitions} partition(s) ` +
        `numbered 0 to ${partitions - 1}; pick one of those or grow the topic with admin.addPartitions().`,
    );
  }
}

/** A message is larger than the producer's `maxMessageBytes`; nothing was sent. */
export class MessageTooLargeError extends BrokerError {
  constructor(readonly topic: string, readonly sizeBytes: number, readonly maxMessageBytes: number) {
    super(
      'MESSAGE_TOO_LARGE',
      `A message for topic '${topic}' is ${sizeBytes} bytes, over the producer's maxMessageBytes of ${maxMessageBytes}; ` +
        `nothing was sent. Split the payload, store it elsewhere and send a reference, or raise maxMessageBytes.`,
    );
  }
}

/** Fewer replicas than `minInSyncReplicas` confirmed an `acks: 'all'` write in time. */
export class NotEnoughReplicasError extends BrokerError {
  constructor(
    readonly acknowledged: number,
    readonly required: number,
    readonly timeoutMs: number,
  ) {
    super(
      'NOT_ENOUGH_REPLICAS',
      `Only ${acknowledged} of ${required} required replica(s) confirmed the write within ${timeoutMs} ms. ` +
        `The messages were written to the leader and may still exist or replicate later, so a retry can duplicate them. ` +
        `Check the replicas (INFO replication), raise ackTimeoutMs, or lower minInSyncReplicas.`,
      { retriable: true },
    );
  }
}

/** Redis could not be reached, or the connection failed, after the configured retries. */
export class BrokerConnectionError extends BrokerError {
  constructor(message: string, options?: BrokerErrorOptions) {
    super('CONNECTION', message, { retriable: true, ...options });
  }
}

/** The Redis server is too old or lacks a required feature. */
export class UnsupportedRedisError extends BrokerError {
  constructor(message: string) {
    super('UNSUPPORTED_REDIS', message);
  }
}

/** The client, producer or consumer was closed. */
export class ClosedError extends BrokerError {
  constructor(what: string) {
    super('CLOSED', `The ${what} is closed; create a new one to continue.`);
  }
}

/** A consumer lost the lease of a partition; its acknowledgement was refused. */
export class FencedError extends BrokerError {
  constructor(readonly topic: string, readonly partition: number, readonly group: string) {
    super(
      'FENCED',
      `This member no longer owns partition ${partition} of '${topic}' for group '${group}' (its lease expired or ` +
        `moved); the work was refused and the new owner will redeliver it.`,
      { retriable: true },
    );
  }
}

/** The group has no state in Redis. */
export class UnknownGroupError extends BrokerError {
  constructor(readonly group: string, readonly topic?: string) {
    super(
      'UNKNOWN_GROUP',
      topic === undefined
        ? `Group '${group}' does not exist.`
        : `Group '${group}' has never consumed topic '${topic}'; start a consumer for it first.`,
    );
  }
}

/** An operation needs a group without live members. */
export class GroupActiveError extends BrokerError {
  constructor(readonly group: string, readonly members: number, action: string) {
    super(
      'GROUP_ACTIVE',
      `Group '${group}' has ${members} live member(s); stop them before you ${action}, or pass { force: true }.`,
    );
  }
}

/**
 * Throw from a handler to say that retrying cannot help: the message goes to the dead-letter topic
 * after this single attempt.
 */
export class NonRetriableError extends BrokerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NON_RETRIABLE', message, { cause: options?.cause, retriable: false });
  }
}

/**
 * The message failed validation before its handler ran (a pipe, a schema): it goes to the
 * dead-letter topic at once with reason `validation`.
 */
export class MessageValidationError extends NonRetriableError {}

/** A handler ran past `handlerTimeoutMs`; its `signal` was aborted. */
export class HandlerTimeoutError extends BrokerError {
  constructor(readonly timeoutMs: number) {
    super('HANDLER_TIMEOUT', `The handler did not finish within ${timeoutMs} ms; its signal was aborted. Raise retry.handlerTimeoutMs or make the handler honour the signal.`, {
      retriable: true,
    });
  }
}
