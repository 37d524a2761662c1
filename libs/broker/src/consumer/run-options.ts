import { assertInteger } from '../client/brook.options.js';
import { InvalidArgumentError } from '../errors/errors.js';
import type { DeadLetterOptions, RetryOptions } from '../retry/retry.options.js';
import type { EachBatchHandler } from './batch-runner.js';
import { ORDERINGS, type Ordering } from './lanes.js';
import type { EachMessageHandler } from './message-payload.js';

/** What `run` takes: `eachMessage` or `eachBatch`, and how messages may run side by side. */
export interface RunOptions {
  /** Called for every message; with `ordering: 'partition'`, one at a time per partition, in offset order. */
  eachMessage?: EachMessageHandler;
  /**
   * Called with consecutive messages of one partition (up to `maxBatchSize` messages and
   * `maxBytesPerPartition` bytes), for bulk writes. Takes `ordering: 'partition'`.
   */
  eachBatch?: EachBatchHandler;
  /**
   * Which messages run one after another: `'partition'` (all of a partition, in offset order),
   * `'key'` (those with the same key, in offset order; each keyless message on its own) or `'none'`.
   * @defaultValue `'partition'`
   */
  ordering?: Ordering;
  /**
   * Handlers in flight at once across this consumer's partitions.
   * @defaultValue `partitionsConsumedConcurrently` with `ordering: 'partition'` (1), otherwise 16
   */
  concurrency?: number;
  /** KafkaJS' name for `concurrency` with `ordering: 'partition'`: how many partitions run handlers at once. @defaultValue `1` */
  partitionsConsumedConcurrently?: number;
  /** How failing messages are retried: attempts, backoff, blocking or not, handler timeout. */
  retry?: RetryOptions;
  /** Dead-lettering of messages whose retries ran out or cannot help. */
  deadLetter?: DeadLetterOptions;
  /** Names the handler in dead letters. @defaultValue the function's name, or `'eachMessage'` / `'eachBatch'` */
  handlerName?: string;
}

/** Handlers in flight by default when messages of a partition may run side by side. */
const DEFAULT_CONCURRENCY = 16;

/** Checks how `run` was asked to run handlers; returns the ordering and the number of handler slots. */
export function resolveRunMode(options: RunOptions): { ordering: Ordering; concurrency: number } {
  const hasMessage = typeof options.eachMessage === 'function';
  const hasBatch = typeof options.eachBatch === 'function';
  if (hasMessage === hasBatch) {
    throw new InvalidArgumentError(
      hasMessage
        ? 'run takes eachMessage or eachBatch, not both.'
        : 'run needs { eachMessage: async ({ topic, partition, message }) => { … } } or { eachBatch: async ({ batch, resolveOffset }) => { … } }.',
    );
  }
  const ordering = options.ordering ?? 'partition';
  if (!ORDERINGS.includes(ordering)) {
    throw new InvalidArgumentError(`ordering must be one of ${ORDERINGS.map((o) => `'${o}'`).join(', ')}; got ${JSON.stringify(ordering)}.`);
  }
  if (hasBatch && ordering !== 'partition') {
    throw new InvalidArgumentError(
      `eachBatch hands over a partition's consecutive messages in offset order, so it takes ordering: 'partition'; use eachMessage with ordering: '${ordering}' to run messages of a partition side by side.`,
    );
  }
  const { concurrency, partitionsConsumedConcurrently: perPartition } = options;
  if (perPartition !== undefined) {
    assertInteger('partitionsConsumedConcurrently', perPartition, 1, 10_000);
    if (ordering !== 'partition') {
      throw new InvalidArgumentError(`partitionsConsumedConcurrently counts partitions, which only ordering: 'partition' runs one at a time; with ordering: '${ordering}' set concurrency (handlers in flight).`);
    }
    if (concurrency !== undefined && concurrency !== perPartition) {
      throw new InvalidArgumentError(`concurrency (${concurrency}) and partitionsConsumedConcurrently (${perPartition}) disagree; set one of them.`);
    }
  }
  const resolved = concurrency ?? perPartition ?? (ordering === 'partition' ? 1 : DEFAULT_CONCURRENCY);
  assertInteger('concurrency', resolved, 1, 10_000);
  return { ordering, concurrency: resolved };
}
