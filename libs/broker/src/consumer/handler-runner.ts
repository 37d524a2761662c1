import type { Codec } from '../codec/codec.js';
import { HandlerTimeoutError } from '../errors/errors.js';
import type { ReceivedMessage } from '../message/message.js';
import { decodeValue } from '../message/wire.js';
import { readLogEntry, type LogEntry } from '../redis/packed-entries.js';
import { classifyFailure, type FailureReason } from '../retry/retry-decision.js';
import type { RetryPolicy } from '../retry/retry.options.js';
import type { AttemptTrace, TraceContext } from '../tracing/attempt-trace.js';
import type { ProcessTracing } from '../tracing/process-tracing.js';
import { Deadlines } from './deadlines.js';
import { MessagePayload, type EachMessageHandler } from './message-payload.js';

/**
 * How one attempt went. A failed attempt under a registered tracing SDK carries its span, open
 * until the caller recorded what follows (retry or dead letter) and ended it.
 */
export type AttemptOutcome = { ok: true } | { ok: false; reason: FailureReason; error: unknown; trace?: AttemptTrace };

/** What a handler's payload offers beyond the message. */
export interface PayloadControls {
  heartbeat(): Promise<void>;
  pause(): () => void;
  /** Aborted when the worker lost the partition (lease, fencing, a lost connection). */
  readonly lossSignal: AbortSignal;
}

const TIMED_OUT = Symbol('timed out');
const OK: AttemptOutcome = Object.freeze({ ok: true });

/**
 * Runs the handler once for a message: decodes it (an undecodable payload never reaches the
 * handler), builds the payload, and races the handler against its timeout, aborting the payload's
 * signal when the timeout wins.
 */
export class HandlerRunner {
  private readonly deadlines: Deadlines;

  constructor(
    private readonly handler: EachMessageHandler,
    private readonly codec: Codec,
    private readonly policy: RetryPolicy,
    private readonly tracing?: ProcessTracing,
  ) {
    this.deadlines = new Deadlines(policy.handlerTimeoutMs);
  }

  run(topic: string, partition: number, entry: LogEntry, attempt: number, controls: PayloadControls, extend?: (payload: MessagePayload) => void): Promise<AttemptOutcome> {
    let message: ReceivedMessage;
    try {
      const raw = readLogEntry(entry);
      message = { offset: entry.offset, key: raw.key, value: decodeValue(raw, this.codec), headers: raw.headers, timestamp: raw.timestamp };
    } catch (error) {
      return Promise.resolve({ ok: false, reason: 'undecodable', error });
    }
    const payload = new MessagePayload(topic, partition, message, attempt, controls.heartbeat, controls.pause, controls.lossSignal);
    extend?.(payload);
    const traced = this.tracing?.startMessage(topic, partition, message, entry.messageId);
    if (traced === undefined) return this.attempt(payload, undefined);
    return this.attempt(payload, traced).then((outcome) => {
      if (outcome.ok) {
        this.tracing!.succeeded(traced);
        return outcome;
      }
      return { ...outcome, trace: this.tracing!.failed(traced, outcome.error) };
    });
  }

  /** Runs the handler (inside the span's context when traced) and waits for it within the timeout. */
  private async attempt(payload: MessagePayload, traced: TraceContext | undefined): Promise<AttemptOutcome> {
    try {
      const handled = traced === undefined ? this.handler(payload) : this.tracing!.run(traced, this.handler, payload);
      // A handler that returned no promise is done (or threw) already: no deadline to watch.
      if (!isPromiseLike(handled)) return OK;
      const outcome = await this.settledInTime(handled);
      if (outcome === TIMED_OUT) {
        const error = new HandlerTimeoutError(this.policy.handlerTimeoutMs);
        payload.abort(error);
        // The handler keeps running; whatever it does later is no longer awaited.
        Promise.resolve(handled).catch(() => undefined);
        return { ok: false, reason: 'timeout', error };
      }
      if (outcome instanceof HandlerRejection) throw outcome.error;
      return OK;
    } catch (error) {
      return { ok: false, reason: classifyFailure(error, this.policy), error };
    }
  }

  /** Resolves with OK, the handler's error, or TIMED_OUT when `handlerTimeoutMs` passed first. */
  private settledInTime(handled: PromiseLike<unknown>): Promise<typeof OK | HandlerRejection | typeof TIMED_OUT> {
    return new Promise((resolve) => {
      const deadline = this.deadlines.watch(() => resolve(TIMED_OUT));
      handled.then(
        () => {
          this.deadlines.settle(deadline);
          resolve(OK);
        },
        (error: unknown) => {
          this.deadlines.settle(deadline);
          resolve(new HandlerRejection(error));
        },
      );
    });
  }
}

/** What the handler's promise rejected with. */
class HandlerRejection {
  constructor(readonly error: unknown) {}
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
