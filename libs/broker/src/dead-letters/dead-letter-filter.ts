import { assertInteger } from '../client/brook.options.js';
import { InvalidArgumentError } from '../errors/errors.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from './dead-letter-record.js';

/**
 * Which dead letters a search, count or replay applies to. Every field narrows the selection; an
 * empty filter selects every dead letter of the group on the topic.
 */
export interface DeadLetterFilter {
  /** Only this partition. */
  partition?: number;
  /** Only dead letters with this reason. */
  reason?: DeadLetterReason;
  /** Only failures whose error has exactly this name (`TypeError`, `ValidationError`, …). */
  errorName?: string;
  /** Only failures whose error message contains this text (case-insensitive). */
  errorMessage?: string;
  /** Only messages with exactly this key. */
  key?: string;
  /** Only messages whose original offset is at least this (in each partition searched). */
  fromOffset?: number;
  /** Only messages whose original offset is at most this. */
  toOffset?: number;
  /** Only dead letters that failed last (were dead-lettered) at or after this time, ms since the epoch. */
  from?: number;
  /** Only dead letters that failed last at or before this time, ms since the epoch. */
  to?: number;
  /** Only parked messages (replayed `maxReplays` times already), or only those not parked. */
  parked?: boolean;
}

const FILTER_FIELDS = new Set(['partition', 'reason', 'errorName', 'errorMessage', 'key', 'fromOffset', 'toOffset', 'from', 'to', 'parked']);
const MAX_TEXT = 1_000;

/** Checks a filter against the topic's partition count; returns a frozen copy. */
export function resolveDeadLetterFilter(filter: DeadLetterFilter | undefined, partitions: number): Readonly<DeadLetterFilter> {
  if (filter === undefined) return Object.freeze({});
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new InvalidArgumentError('filter must be an object like { reason, errorName, errorMessage, key, partition, fromOffset, toOffset, from, to }.');
  }
  for (const name of Object.keys(filter)) {
    if (!FILTER_FIELDS.has(name)) throw new InvalidArgumentError(`Unknown dead-letter filter '${name}': use ${[...FILTER_FIELDS].join(', ')}.`);
  }
  const { partition, reason, errorName, errorMessage, key, fromOffset, toOffset, from, to, parked } = filter;
  if (partition !== undefined) assertInteger('partition', partition, 0, partitions - 1);
  if (reason !== undefined && !(DEAD_LETTER_REASONS as readonly string[]).includes(reason)) {
    throw new InvalidArgumentError(`Invalid reason ${JSON.stringify(reason)}: use one of ${DEAD_LETTER_REASONS.join(', ')}.`);
  }
  for (const [name, value] of [['errorName', errorName], ['errorMessage', errorMessage], ['key', key]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT)) {
      throw new InvalidArgumentError(`Filter ${name} must be a string of 1 to ${MAX_TEXT} characters; got ${JSON.stringify(value)?.slice(0, 60)}.`);
    }
  }
  for (const [name, value] of [['fromOffset', fromOffset], ['toOffset', toOffset], ['from', from], ['to', to]] as const) {
    if (value !== undefined) assertInteger(name, value, 0, Number.MAX_SAFE_INTEGER);
  }
  if (fromOffset !== undefined && toOffset !== undefined && fromOffset > toOffset) {
    throw new InvalidArgumentError(`fromOffset ${fromOffset} is above toOffset ${toOffset}: the offset range is inclusive, from ≤ to.`);
  }
  if (from !== undefined && to !== undefined && from > to) {
    throw new InvalidArgumentError(`from ${from} is after to ${to}: the time range is inclusive, from ≤ to (ms since the epoch).`);
  }
  if (parked !== undefined && typeof parked !== 'boolean') throw new InvalidArgumentError('Filter parked must be true or false.');
  return Object.freeze({ ...filter });
}

/** Whether a filter selects every dead letter (no field narrows it). */
export function isEmptyFilter(filter: Readonly<DeadLetterFilter>): boolean {
  return Object.values(filter).every((value) => value === undefined);
}
