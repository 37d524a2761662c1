import { correlationIdOf, type EachMessagePayload, type Headers, type ReceivedMessage, type ShareMessagePayload } from '@brook/broker';

/**
 * What a `@Subscribe` handler knows about the message besides its payload; inject it with
 * `@Ctx()`. In guards and interceptors it is `context.switchToRpc().getContext()`. `V` is the
 * type of the message's value, as the handler declares it (`MessageContext<OrderCreated>`); Brook
 * does not check it at run time (a validation pipe does).
 */
export class MessageContext<V = unknown> {
  constructor(protected readonly payload: EachMessagePayload<V>) {}

  get topic(): string {
    return this.payload.topic;
  }

  get partition(): number {
    return this.payload.partition;
  }

  get offset(): number {
    return this.payload.message.offset;
  }

  get key(): string | null {
    return this.payload.message.key;
  }

  get headers(): Headers {
    return this.payload.message.headers;
  }

  get timestamp(): number {
    return this.payload.message.timestamp;
  }

  /**
   * Ties this message to the work around it: the `brook-correlation-id` header (a producer sets it
   * from a message's `correlationId`), else the trace id of its `traceparent` header, else `undefined`.
   */
  get correlationId(): string | undefined {
    return correlationIdOf(this.payload.message.headers);
  }

  /** 1 for the first delivery; continues across restarts and takeovers. */
  get attempt(): number {
    return this.payload.attempt;
  }

  /** Aborted when the handler timed out or this instance lost the partition. */
  get signal(): AbortSignal {
    return this.payload.signal;
  }

  /** The message as received (offset, key, value, headers, timestamp); `MessageContext<T>` types its value. */
  getMessage(): ReceivedMessage<V> {
    return this.payload.message;
  }

  /** Renews the consumer's session now; only needed around long synchronous work. */
  heartbeat(): Promise<void> {
    return this.payload.heartbeat();
  }

  /** Pauses this partition after the current message; returns the function that resumes it. */
  pause(): () => void {
    return this.payload.pause();
  }
}

/**
 * The {@link MessageContext} of a share group's handler (`@Subscribe(…, { share: true })`): the
 * message is locked to this instance for `acquisitionLockMs`, after which another member may take
 * it.
 */
export class ShareMessageContext<V = unknown> extends MessageContext<V> {
  constructor(protected override readonly payload: ShareMessagePayload<V>) {
    super(payload);
  }

  /** How many times the group has handed this message out, this delivery included (1 the first time). */
  get deliveryCount(): number {
    return this.payload.deliveryCount;
  }

  /** Extends this instance's lock on the message by `acquisitionLockMs`; call it around long work. */
  renewLock(): Promise<void> {
    return this.payload.renewLock();
  }
}
