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
  'TIMEOUT',
  'PRODUCER_FENCED',
  'INVALID_TIMESTAMP',
  'QUEUE_FULL',
  'DELIVERY_TIMEOUT',
  'OUT_OF_ORDER_SEQUENCE',
  'DATA_LOSS',
  'OUT_OF_MEMORY',
  'GROUP_KIND_CONFLICT',
  'LEADER_NOT_AVAILABLE',
  'NO_PERMISSION',
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

/**
 * An `acks: 'all'` write could not be made durable: fewer than `minInSyncReplicas` replicas were in
 * sync before it (`written: false`, nothing was appended), or confirmed it within the timeout
 * (`written: true`, it is on the leader and may still replicate).
 */
export class NotEnoughReplicasError extends BrokerError {
  constructor(
    readonly acknowledged: number,
    readonly required: number,
    readonly timeoutMs: number,
    readonly written = true,
  ) {
    super(
      'NOT_ENOUGH_REPLICAS',
      written
        ? `Only ${acknowledged} of ${required} required replica(s) confirmed the write within ${timeoutMs} ms. ` +
            `The messages were written to the leader and may still exist or replicate later, so a retry can duplicate them. ` +
            `Check the replicas (INFO replication), raise ackTimeoutMs, or lower minInSyncReplicas.`
        : `Only ${acknowledged} of ${required} required replica(s) are in sync (online, at most 10 s behind); nothing was written. ` +
            `Check the replicas (INFO replication), or lower minInSyncReplicas.`,
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

/**
 * Redis Cluster is moving the slot a request needs to another node — a failover or a resharding is
 * under way (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`, or more redirections than ioredis follows).
 * Retriable: once the cluster settles, the same request goes to the node that serves the slot.
 */
export class LeaderNotAvailableError extends BrokerError {
  constructor(readonly operation: string, reply: string, options?: BrokerErrorOptions) {
    super(
      'LEADER_NOT_AVAILABLE',
      `Could not ${operation}: the Redis Cluster node serving its slot is changing (${reply}) — a failover or a resharding is ` +
        `under way; the request is safe to repeat once the cluster settles. If it lasts, check CLUSTER INFO and CLUSTER NODES ` +
        `(a primary without a replica to promote leaves its slots unserved).`,
      { retriable: true, ...options },
    );
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

/** Redis did not answer a request in time; the request may still run later (every request is safe to repeat). */
export class RequestTimeoutError extends BrokerError {
  constructor(readonly operation: string, readonly timeoutMs: number) {
    super(
      'TIMEOUT',
      `Redis did not answer the request to ${operation} within ${timeoutMs} ms; it may still run, and is safe to repeat. ` +
        `Check that Redis is not stalled (SLOWLOG, LATENCY DOCTOR), or raise connection.commandTimeoutMs.`,
      { retriable: true },
    );
  }
}

/** A newer instance of a producer with the same `producerId` wrote to the partition; this one may no longer send. */
export class ProducerFencedError extends BrokerError {
  constructor(readonly producerId: string, readonly epoch: number, readonly newerEpoch: number) {
    super(
      'PRODUCER_FENCED',
      `Producer '${producerId}' (epoch ${epoch}) was fenced: an instance with epoch ${newerEpoch} took over this producer id. ` +
        `Only the newest instance may send; close this one, or give concurrent producers different producerIds.`,
    );
  }
}

/** A group name is used as an exclusive consumer group and as a share group. */
export class GroupKindConflictError extends BrokerError {
  constructor(readonly group: string, readonly existingKind: 'exclusive' | 'share', requested: 'exclusive' | 'share') {
    super(
      'GROUP_KIND_CONFLICT',
      `Group '${group}' is a${existingKind === 'share' ? ' share group' : 'n exclusive consumer group'}; it cannot also run as a${requested === 'share' ? ' share group' : 'n exclusive consumer group'}. ` +
        `Use another group name (${requested === 'share' ? 'brook.shareConsumer' : 'brook.consumer'}), or keep using ${existingKind === 'share' ? 'brook.shareConsumer' : 'brook.consumer'} for '${group}'.`,
    );
  }
}

/** A message timestamp lies outside the producer's accepted window on the Redis clock; nothing was sent. */
export class InvalidTimestampError extends BrokerError {
  constructor(readonly topic: string, readonly timestamp: number, readonly nowMs: number, window: string) {
    super(
      'INVALID_TIMESTAMP',
      `A message for '${topic}' has timestamp ${timestamp} (${new Date(timestamp).toISOString()}), ${Math.round((timestamp - nowMs) / 1_000)} s from the ` +
        `Redis clock, outside the accepted window (${window}); nothing was sent. Omit the timestamp to use the append time, ` +
        `or widen the producer's timestampWindow.`,
    );
  }
}

/** The producer's queue holds more than `maxQueuedBytes`; the send was refused, nothing of it was queued. */
export class ProducerQueueFullError extends BrokerError {
  constructor(readonly queuedBytes: number, readonly maxQueuedBytes: number) {
    super(
      'QUEUE_FULL',
      `The producer already holds ${queuedBytes} bytes not yet written to Redis, at its maxQueuedBytes of ${maxQueuedBytes}; ` +
        `this send was refused. Redis is slow or unreachable, or sends outpace it: await sends before issuing more, or raise maxQueuedBytes.`,
      { retriable: true },
    );
  }
}

/**
 * A send could not be delivered within the producer's `deliveryTimeoutMs` (counted from the `send`
 * call), usually because Redis was unreachable for that long. `maybeWritten` says whether an
 * attempt may have reached Redis: then the messages may still appear in the log.
 */
export class DeliveryTimeoutError extends BrokerError {
  constructor(
    readonly topic: string,
    readonly deliveryTimeoutMs: number,
    readonly maybeWritten: boolean,
    options: { cause?: unknown } = {},
  ) {
    const reason = options.cause instanceof Error ? ` (last failure: ${options.cause.message})` : '';
    super(
      'DELIVERY_TIMEOUT',
      `Could not deliver messages to '${topic}' within the producer's deliveryTimeoutMs of ${deliveryTimeoutMs} ms${reason}. ` +
        (maybeWritten
          ? 'An attempt may have reached Redis, so they may still have been written. '
          : 'Nothing was written. ') +
        'Check that Redis is reachable, or raise deliveryTimeoutMs to wait through longer outages.',
      { cause: options.cause, retriable: true },
    );
  }
}

/** A produce batch overlapped what the partition had appended for this producer without being a repeat; nothing was written. */
export class OutOfOrderSequenceError extends BrokerError {
  constructor(readonly topic: string, readonly partition: number, detail: string) {
    super(
      'OUT_OF_ORDER_SEQUENCE',
      `Partition ${partition} of '${topic}' refused a batch out of sequence (${detail}); nothing was written. ` +
        `This means the producer's sequence state and Redis disagree; create a new producer.`,
    );
  }
}

/**
 * Redis lost writes it had acknowledged: it restarted from an older snapshot or failed over to a
 * replica that had not received them. Reported through events; the client resynchronises.
 */
export class DataLossError extends BrokerError {
  constructor(message: string) {
    super('DATA_LOSS', message);
  }
}

/** Redis is at its `maxmemory` and refuses writes that add data; nothing of the request was written. */
export class RedisOutOfMemoryError extends BrokerError {
  constructor(operation: string, options?: BrokerErrorOptions) {
    super(
      'OUT_OF_MEMORY',
      `Could not ${operation}: Redis is at its maxmemory and refused the write (nothing was written). ` +
        `Consumers keep draining; free memory (retention, purging dead letters) or raise maxmemory, then try again.`,
      { retriable: true, ...options },
    );
  }
}

/**
 * The Redis user Brook connects as may not run a command or touch a key Brook needs (an ACL
 * `NOPERM` reply). Not retriable: repeating cannot help until an operator grants the permission.
 */
export class RedisPermissionError extends BrokerError {
  constructor(
    readonly operation: string,
    /** The command Redis refused, when its reply named one (e.g. `xadd`, `cluster|shards`). */
    readonly command: string | undefined,
    redisMessage: string,
    options?: BrokerErrorOptions,
  ) {
    super(
      'NO_PERMISSION',
      `Could not ${operation}: the Redis user may not ${command === undefined ? 'run a command or use a key Brook needs' : `run '${command}'`} (${redisMessage}). ` +
        `Grant the user Brook's rules for its key prefix: ACL SETUSER <user> followed by brookAclRules(prefix).join(' ') ` +
        `(see "Redis deployments" in the README), or connect as a user that has them.`,
      { ...options, retriable: false },
    );
  }
}
