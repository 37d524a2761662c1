import type { Codec } from '../codec/codec.js';
import { HandlerTimeoutError, InvalidArgumentError } from '../errors/errors.js';
import type { ReceivedMessage } from '../message/message.js';
import { decodeValue } from '../message/wire.js';
import { readLogEntry, type LogEntry } from '../redis/packed-entries.js';
import { classifyFailure, type FailureReason } from '../retry/retry-decision.js';
import type { RetryPolicy } from '../retry/retry.options.js';
import type { AttemptTrace } from '../tracing/attempt-trace.js';
import type { ProcessTracing } from '../tracing/process-tracing.js';
import { Deadlines } from './deadlines.js';
import type { PayloadControls } from './handler-runner.js';

/** One partition's consecutive messages, as a batch handler receives them. */
export interface Batch<V = unknown> {
  topic: string;
  partition: number;
  messages: Array<ReceivedMessage<V>>;
  /** Offset of the first message. */
  firstOffset(): number;
  /** Offset of the last message. */
  lastOffset(): number;
}

/** What a batch handler receives. */
export interface EachBatchPayload<V = unknown> {
  batch: Batch<V>;
  /**
   * Marks the messages of the batch up to and including `offset` as processed: they are
   * acknowledged now, and stay so even if the handler throws or the member crashes later. Offsets
   * outside the batch are refused.
   */
  resolveOffset(offset: number): void;
  /** Renews this member's session and leases now; only needed around long synchronous work. */
  heartbeat(): Promise<void>;
  /**
   * false once this member stops or lost the partition: return early, and the messages not resolved
   * are delivered again (once the handler saw false, only what it resolved counts as processed).
   */
  isRunning(): boolean;
  /** Aborted when the batch ran past `handlerTimeoutMs` or this member lost the partition. */
  readonly signal: AbortSignal;
}

export type EachBatchHandler<V = unknown> = (payload: EachBatchPayload<V>) => Promise<void> | void;

/** How one attempt of a batch went. */
export interface BatchOutcome {
  /** Entries whose offsets the handler resolved (all of them when it succeeded). */
  resolved: LogEntry[];
  /** Entries that could not be decoded: never given to the handler. */
  undecodable: Array<{ entry: LogEntry; error: unknown }>;
  /** Set when the handler failed: why, for the entries not resolved. */
  failure?: { reason: FailureReason; error: unknown };
  /** The handler returned after it saw `isRunning()` false: the entries not resolved were not processed. */
  stopped?: boolean;
  /** The span of a failed batch under a registered tracing SDK; the caller records what follows and ends it. */
  trace?: AttemptTrace;
}

/**
 * Runs a batch handler once over consecutive messages of one partition: decodes them (undecodable
 * ones are set aside), tracks `resolveOffset`, and races the handler against `handlerTimeoutMs`.
 */
export class BatchRunner {
  private readonly deadlines: Deadlines;

  constructor(
    private readonly handler: EachBatchHandler,
    private readonly codec: Codec,
    private readonly policy: RetryPolicy,
    private readonly tracing?: ProcessTracing,
  ) {
    this.deadlines = new Deadlines(policy.handlerTimeoutMs);
  }

  async run(
    topic: string,
    partition: number,
    entries: readonly LogEntry[],
    controls: PayloadControls & { isRunning(): boolean; resolved(entries: LogEntry[]): void },
  ): Promise<BatchOutcome> {
    const undecodable: BatchOutcome['undecodable'] = [];
    const decoded: LogEntry[] = [];
    const messages: ReceivedMessage[] = [];
    for (const entry of entries) {
      try {
        const raw = readLogEntry(entry);
        messages.push({ offset: entry.offset, key: raw.key, value: decodeValue(raw, this.codec), headers: raw.headers, timestamp: raw.timestamp });
        decoded.push(entry);
      } catch (error) {
        undecodable.push({ entry, error });
      }
    }
    if (decoded.length === 0) return { resolved: [], undecodable };

    let resolvedUpTo = -1;
    let sawStop = false;
    /** The attempt is over (returned, threw or timed out): later resolutions no longer count. */
    let settled = false;
    const timeout = new AbortController();
    const signal = AbortSignal.any([controls.lossSignal, timeout.signal]);
    const first = decoded[0].offset;
    const last = decoded[decoded.length - 1].offset;
    const payload: EachBatchPayload = {
      batch: { topic, partition, messages, firstOffset: () => first, lastOffset: () => last },
      resolveOffset: (offset: number) => {
        if (!Number.isSafeInteger(offset) || offset < first || offset > last) {
          throw new InvalidArgumentError(`resolveOffset(${String(offset)}): the batch holds offsets ${first} to ${last}.`);
        }
        if (offset <= resolvedUpTo || settled) return;
        // Acknowledged now, not when the handler returns: a crash later does not deliver them again.
        controls.resolved(decoded.filter((entry) => entry.offset > resolvedUpTo && entry.offset <= offset));
        resolvedUpTo = offset;
      },
      heartbeat: controls.heartbeat,
      isRunning: () => {
        const running = controls.isRunning() && !signal.aborted;
        if (!running) sawStop = true;
        return running;
      },
      signal,
    };
    const resolvedEntries = () => decoded.filter((entry) => entry.offset <= resolvedUpTo);
    const traced = this.tracing?.startBatch(topic, partition, messages);
    const failed = (failure: NonNullable<BatchOutcome['failure']>): BatchOutcome => ({
      resolved: resolvedEntries(),
      undecodable,
      failure,
      ...(traced === undefined ? {} : { trace: this.tracing!.failed(traced, failure.error) }),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const deadline = this.deadlines.watch(() => reject(new HandlerTimeoutError(this.policy.handlerTimeoutMs)));
        Promise.resolve()
          .then(() => (traced === undefined ? this.handler(payload) : this.tracing!.run(traced, this.handler, payload)))
          .then(
            () => {
              this.deadlines.settle(deadline);
              resolve();
            },
            (error: unknown) => {
              this.deadlines.settle(deadline);
              reject(error);
            },
          );
      });
      settled = true;
      if (traced !== undefined) this.tracing!.succeeded(traced);
      // A handler that saw isRunning() turn false may have returned early: only what it resolved is done.
      return { resolved: sawStop ? resolvedEntries() : decoded, undecodable, ...(sawStop ? { stopped: true } : {}) };
    } catch (error) {
      // A handler that ran out of time keeps running; whatever it resolves later no longer counts.
      settled = true;
      if (error instanceof HandlerTimeoutError) {
        timeout.abort(error);
        return failed({ reason: 'timeout', error });
      }
      return failed({ reason: classifyFailure(error, this.policy), error });
    }
  }
}
