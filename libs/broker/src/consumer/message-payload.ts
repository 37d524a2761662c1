import type { ReceivedMessage } from '../message/message.js';

/** What a handler receives for each message. */
export interface EachMessagePayload<V = unknown> {
  topic: string;
  partition: number;
  message: ReceivedMessage<V>;
  /** 1 for the first delivery; continues the count of failed attempts recorded before, also by earlier owners. */
  attempt: number;
  /** Renews this member's session and leases now; only needed around long synchronous work. */
  heartbeat(): Promise<void>;
  /** Pauses this partition after the current message; call the returned function to resume it. */
  pause(): () => void;
  /**
   * Aborted when the handler ran past `handlerTimeoutMs` or this member lost the partition: stop work
   * whose result can no longer be committed.
   */
  readonly signal: AbortSignal;
}

export type EachMessageHandler<V = unknown> = (payload: EachMessagePayload<V>) => Promise<void> | void;

/** The payload passed to handlers; its `signal` is only built when a handler reads it. */
export class MessagePayload implements EachMessagePayload {
  private controller: AbortController | undefined;
  private combined: AbortSignal | undefined;
  private abortReason: unknown;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly message: ReceivedMessage,
    readonly attempt: number,
    readonly heartbeat: () => Promise<void>,
    readonly pause: () => () => void,
    private readonly lossSignal: AbortSignal,
  ) {}

  get signal(): AbortSignal {
    if (this.combined === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
      this.combined = AbortSignal.any([this.lossSignal, this.controller.signal]);
    }
    return this.combined;
  }

  /** Aborts this attempt's signal (handler timeout). */
  abort(reason: unknown): void {
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
