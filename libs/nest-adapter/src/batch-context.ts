import type { EachBatchPayload, ReceivedMessage } from '@brook/broker';

/**
 * What a `@SubscribeBatch` handler knows about its batch besides the values; inject it with
 * `@Ctx()`. In guards and interceptors it is `context.switchToRpc().getContext()`, and
 * `getData()` is the array of values.
 */
export class BatchContext<V = unknown> {
  constructor(private readonly payload: EachBatchPayload<V>) {}

  get topic(): string {
    return this.payload.batch.topic;
  }

  get partition(): number {
    return this.payload.batch.partition;
  }

  /** The messages as received (offset, key, value, headers, timestamp), in offset order. */
  get messages(): ReadonlyArray<ReceivedMessage<V>> {
    return this.payload.batch.messages;
  }

  /** Offset of the first message. */
  get firstOffset(): number {
    return this.payload.batch.firstOffset();
  }

  /** Offset of the last message. */
  get lastOffset(): number {
    return this.payload.batch.lastOffset();
  }

  /** Aborted when the batch ran past `handlerTimeoutMs` or this instance lost the partition. */
  get signal(): AbortSignal {
    return this.payload.signal;
  }

  /**
   * Marks the messages up to and including `offset` as processed: they are acknowledged even if
   * the handler throws later, and only the others are retried.
   */
  resolveOffset(offset: number): void {
    this.payload.resolveOffset(offset);
  }

  /** Renews the consumer's session now; only needed around long synchronous work. */
  heartbeat(): Promise<void> {
    return this.payload.heartbeat();
  }

  /** false once the consumer stops or lost the partition: stop early, the rest is delivered again. */
  isRunning(): boolean {
    return this.payload.isRunning();
  }
}
