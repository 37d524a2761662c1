import { assertInteger } from '../client/brook.options.js';
import type { BrookContext } from '../client/context.js';
import { InvalidArgumentError } from '../errors/errors.js';
import { assertValidName } from '../names/names.js';
import type { GroupDescription } from './group-admin.js';

/** One sample of a group's lag on a topic. */
export interface LagSample {
  /** When it was taken: ms since the epoch on the Redis clock. */
  at: number;
  /** Messages the group had not finished, over every partition; null before it read any. */
  lag: number | null;
  /** Age in seconds of its oldest unfinished message, over every partition; null before it read any. */
  lagSeconds: number | null;
  /** Per partition, by partition number: lag and lag in seconds (null where the group never read). */
  partitions: Array<{ partition: number; lag: number | null; lagSeconds: number | null }>;
}

/** What `admin.lagHistory` takes. */
export interface LagHistoryRequest {
  group: string;
  topic: string;
  /** Oldest sample time to return (ms since the epoch). @defaultValue 24 hours ago */
  from?: number;
  /** Newest sample time to return (ms since the epoch). @defaultValue now */
  to?: number;
  /** Most samples to return: the newest ones of the range, oldest first. @defaultValue `1_000` */
  limit?: number;
}

/** How long lag samples are kept. */
export const LAG_HISTORY_RETENTION_MS = 86_400_000;
/** Upper bound on samples in one `lagHistory` answer (24 h at one sample per 10 s is 8,640). */
export const MAX_LAG_SAMPLES = 10_000;

/**
 * Lag over time, per group and topic: a stream of samples whose IDs are the Redis time of each
 * sample, trimmed by ID to the last 24 hours as each sample is added, so the structure is bounded by
 * time and sampling rate (8,640 samples at the default 10 s) and needs no separate cleanup.
 * Fields: 'l' total lag, 's' lag in seconds, 'n' partitions, 'pl' and 'ps' per-partition values
 * separated by commas (empty where the group never read the partition).
 */
export class LagHistory {
  constructor(private readonly ctx: BrookContext) {}

  /** Appends a sample taken from a description; `nowMs` is the Redis clock of that description. */
  async record(description: GroupDescription, nowMs: number, retentionMs = LAG_HISTORY_RETENTION_MS): Promise<void> {
    const { group, topic, partitions } = description;
    const positioned = partitions.filter((p) => p.lag !== null);
    const lag = positioned.length === 0 ? '' : String(positioned.reduce((sum, p) => sum + p.lag!, 0));
    const seconds = positioned.length === 0 ? '' : String(Math.max(...positioned.map((p) => p.lagSeconds ?? 0)));
    const cell = (value: number | null) => (value === null ? '' : String(value));
    await this.ctx.run(`record the lag of '${group}' on '${topic}'`, () =>
      this.ctx.client.xadd(
        this.ctx.keys.lagHistory(group, topic),
        'MINID',
        '~',
        String(Math.max(0, nowMs - retentionMs)),
        '*',
        'l', lag,
        's', seconds,
        'n', String(partitions.length),
        'pl', partitions.map((p) => cell(p.lag)).join(','),
        'ps', partitions.map((p) => cell(p.lagSeconds)).join(','),
      ),
    );
  }

  /** Samples of the range, oldest first; at most `limit`, the newest ones when there are more. */
  async read(request: LagHistoryRequest): Promise<LagSample[]> {
    if (request === null || typeof request !== 'object') throw new InvalidArgumentError("lagHistory needs { group, topic }, e.g. lagHistory({ group: 'billing', topic: 'orders' }).");
    const { group, topic, from, to, limit = 1_000 } = request;
    assertValidName('group', group);
    assertValidName('topic', topic);
    if (from !== undefined) assertInteger('from', from, 0);
    if (to !== undefined) assertInteger('to', to, 0);
    assertInteger('limit', limit, 1, MAX_LAG_SAMPLES);
    if (from !== undefined && to !== undefined && from > to) throw new InvalidArgumentError(`from (${from}) is after to (${to}); give from ≤ to.`);
    await this.ctx.ready();
    const key = this.ctx.keys.lagHistory(group, topic);
    const entries = await this.ctx.run(`read the lag history of '${group}' on '${topic}'`, () =>
      this.ctx.client.xrevrange(key, to === undefined ? '+' : String(to), from === undefined ? '-' : String(from), 'COUNT', limit),
    );
    return entries.reverse().map(([id, fields]) => toSample(id, fields));
  }
}

function toSample(id: string, fields: string[]): LagSample {
  const get = (name: string) => fields[fields.indexOf(name) + 1] ?? '';
  const value = (text: string) => (text === '' ? null : Number(text));
  const lags = get('pl').split(',');
  const seconds = get('ps').split(',');
  const count = Number(get('n')) || 0;
  return {
    at: Number(id.split('-')[0]),
    lag: value(get('l')),
    lagSeconds: value(get('s')),
    partitions: Array.from({ length: count }, (_, partition) => ({ partition, lag: value(lags[partition] ?? ''), lagSeconds: value(seconds[partition] ?? '') })),
  };
}
