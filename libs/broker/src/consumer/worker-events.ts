import type { DeadLetterReason } from '../dead-letters/dead-letter-record.js';
import type { RetryPolicy } from '../retry/retry.options.js';
import type { WriteCoalescer } from '../redis/write-coalescer.js';
import type { FetchRequester } from './fetch-target.js';
import type { OffsetRange } from './gaps.js';
import type { BatchRunner } from './batch-runner.js';
import type { HandlerRunner, PayloadControls } from './handler-runner.js';
import type { Ordering } from './lanes.js';
import type { PartitionLease } from './lease.js';
import type { PartitionStore } from './partition-store.js';
import type { Semaphore } from './semaphore.js';

/**
 * Why a worker lost its partition without giving it up: `fenced` (its token no longer holds the
 * lease), `gone` (the topic was deleted or the group reset), `expired` (no renewal came back before
 * its local deadline), `in-doubt` (its connection dropped, or Redis lost writes under it), `error`
 * (Redis refused a state change with an error; the member takes the partition back later).
 */
export type LossReason = 'fenced' | 'gone' | 'expired' | 'in-doubt' | 'error';

/** A retry the worker scheduled. */
export interface RetryEvent {
  topic: string;
  partition: number;
  offset: number;
  /** The attempt that comes next. */
  attempt: number;
  delayMs: number;
  mode: 'blocking' | 'non-blocking';
  error: unknown;
}

/** A message the worker moved to the dead-letter topic. */
export interface DeadLetterEvent {
  topic: string;
  partition: number;
  offset: number;
  reason: DeadLetterReason;
  attempts: number;
  error: unknown;
  /** ID of the dead letter, as the admin API addresses it. */
  deadLetterId: string;
}

/** Where a worker reports what happens. */
export interface WorkerEvents {
  skipped(range: OffsetRange): void;
  retry(event: RetryEvent): void;
  deadLetter(event: DeadLetterEvent): void;
  lost(reason: LossReason): void;
  /** The last message read so far, to notice later that Redis lost it. */
  lastRead(offset: number, messageId: string): void;
  reportError(operation: string, error: unknown): void;
  crash(error: unknown): void;
}

/** Everything a worker works with, handed in by its consumer. */
export interface WorkerDeps {
  store: PartitionStore;
  lease: PartitionLease;
  /** Runs `eachMessage`; absent when the consumer runs `eachBatch`. */
  runner?: HandlerRunner;
  /** Runs `eachBatch`; absent when the consumer runs `eachMessage`. */
  batch?: BatchRunner;
  policy: RetryPolicy;
  /** Which messages run one after another. */
  ordering: Ordering;
  /** Handlers in flight at once across the consumer (the size of `slots`). */
  concurrency: number;
  handlerName: string;
  /** Handler slots, shared by the consumer's partitions. */
  slots: Semaphore;
  fetcher: FetchRequester;
  /** Gathers the writes of a turn (acknowledgements of all partitions) into one. */
  writes: WriteCoalescer;
  maxBatchSize: number;
  maxBytesPerPartition: number;
  controls: Omit<PayloadControls, 'lossSignal'>;
  events: WorkerEvents;
}
