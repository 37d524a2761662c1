import type { Codec } from '../codec/codec.js';
import { HandlerTimeoutError } from '../errors/errors.js';
import type { ReceivedMessage } from '../message/message.js';
import { decodeValue, readEntry } from '../message/wire.js';
import type { LogEntry } from '../redis/packed-entries.js';
import { classifyFailure, type FailureReason } from '../retry/retry-decision.js';
import type { RetryPolicy } from '../retry/retry.options.js';
import { MessagePayload, type EachMessageHandler } from './message-payload.js';

/** How one attempt went. */
export type AttemptOutcome = { ok: true } | { ok: false; reason: FailureReason; error: unknown };

/** What a handler's payload offers beyond the message. */
export interface PayloadControls {
  heartbeat(): Promise<void>;
  pause(): () => void;
  /** Aborted when the worker lost the partition (lease, fencing, a lost connection). */
  readonly lossSignal: AbortSignal;
}

const TIMED_OUT = Symbol('timed out');

/**
 * Runs the handler once for a message: decodes it (an undecodable payload never reaches the
 * handler), builds the payload, and races the handler against its timeout, aborting the payload's
 * signal when the timeout wins.
 */
export class HandlerRunner {
  constructor(
    private readonly handler: EachMessageHandler,
    private readonly codec: Codec,
    private readonly policy: RetryPolicy,
  ) {}

  async run(topic: string, partition: number, entry: LogEntry, attempt: number, controls: PayloadControls): Promise<AttemptOutcome> {
    let message: ReceivedMessage;
    try {
      const raw = readEntry(entry.fields);
      message = { offset: entry.offset, key: raw.key, value: decodeValue(raw, this.codec), headers: raw.headers, timestamp: raw.timestamp };
    } catch (error) {
      return { ok: false, reason: 'undecodable', error };
    }
    const payload = new MessagePayload(topic, partition, message, attempt, controls.heartbeat, controls.pause, controls.lossSignal);
    const { handlerTimeoutMs } = this.policy;
    let timer: NodeJS.Timeout | undefined;
    try {
      const handled = this.handler(payload);
      const outcome = await Promise.race([handled, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, handlerTimeoutMs, TIMED_OUT)))]);
      if (outcome === TIMED_OUT) {
        const error = new HandlerTimeoutError(handlerTimeoutMs);
        payload.abort(error);
        // The handler keeps running; whatever it does later is no longer awaited.
        Promise.resolve(handled).catch(() => undefined);
        return { ok: false, reason: 'timeout', error };
      }
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: classifyFailure(error, this.policy), error };
    } finally {
      clearTimeout(timer);
    }
  }
}
