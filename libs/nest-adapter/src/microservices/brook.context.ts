import type { EachMessagePayload, Headers, ReceivedMessage } from '@brook/broker';
import { MessageContext } from '../message-context.js';
import { BrookHeaders } from './brook-transport.constants.js';

/** What `getArgs()` holds, as `KafkaContext` holds `[message, partition, topic, consumer, heartbeat, producer]`. */
export type BrookContextArgs = [message: ReceivedMessage, partition: number, topic: string, group: string];

/**
 * The `@Ctx()` of an `@EventPattern` or `@MessagePattern` handler run by {@link BrookServer}:
 * `KafkaContext`'s getters (`getMessage()`, `getTopic()`, `getPartition()`…) over a Brook message,
 * plus what Brook adds (attempt, abort signal, consumer group). It is a {@link MessageContext}, so
 * code written for `@Subscribe` handlers takes it too.
 */
export class BrookContext extends MessageContext {
  constructor(
    payload: EachMessagePayload,
    private readonly group: string,
  ) {
    super(payload);
  }

  /** `[message, partition, topic, group]`. */
  getArgs(): BrookContextArgs {
    return [this.payload.message, this.payload.partition, this.payload.topic, this.group];
  }

  /** One of {@link getArgs}, by index. */
  getArgByIndex<I extends 0 | 1 | 2 | 3>(index: I): BrookContextArgs[I] {
    return this.getArgs()[index];
  }

  getTopic(): string {
    return this.topic;
  }

  getPartition(): number {
    return this.partition;
  }

  getOffset(): number {
    return this.offset;
  }

  getKey(): string | null {
    return this.key;
  }

  getHeaders(): Headers {
    return this.headers;
  }

  /** Milliseconds since the epoch. */
  getTimestamp(): number {
    return this.timestamp;
  }

  /** The consumer group this handler runs in. */
  getConsumerGroup(): string {
    return this.group;
  }

  /** 1 for the first delivery; continues across retries, restarts and takeovers. */
  getAttempt(): number {
    return this.attempt;
  }

  /** Aborted when the handler timed out or this instance lost the partition. */
  getSignal(): AbortSignal {
    return this.signal;
  }

  /** Renews the consumer's session; only needed around long synchronous work. */
  getHeartbeat(): () => Promise<void> {
    return () => this.heartbeat();
  }

  /** The request's correlation id, for a message sent with `BrookClient.send()`. */
  getCorrelationId(): string | undefined {
    return this.headers[BrookHeaders.CORRELATION_ID];
  }

  /** Where the reply to a `BrookClient.send()` request goes. */
  getReplyTopic(): string | undefined {
    return this.headers[BrookHeaders.REPLY_TOPIC];
  }
}
