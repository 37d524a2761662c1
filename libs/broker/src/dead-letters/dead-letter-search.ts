import type { BrookContext } from '../client/context.js';
import { InvalidArgumentError } from '../errors/errors.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { SearchStepInput } from '../redis/specs/dead-letters.js';
import { parseDeadLetter, type DeadLetter } from './dead-letter.js';
import type { DeadLetterFilter } from './dead-letter-filter.js';
import { errorTag, reasonTag } from './dead-letter-tags.js';

/** Candidates one search step examines at most: keeps every script short (faults stay local). */
const STEP_BUDGET = 2_000;
/** Candidates one page examines at most; a page that runs out returns what it found and a cursor. */
export const PAGE_BUDGET = 10_000;
/** Bytes of dead letters one page returns at most (at least one dead letter). */
const PAGE_BYTES = 4 * 1024 * 1024;
/** The highest sequence of a stream ID: `<ms>-<this>` ends a time range inclusively. */
const MAX_SEQ = '18446744073709551615';
const CURSOR = /^(\d{1,5}):(\d{1,15}-\d{1,20})$/;

/** Where a search is: a partition and the last dead letter examined there. */
export interface SearchPosition {
  partition: number;
  /** Exclusive: the search continues after this dead-letter stream ID; undefined from the start. */
  after?: string;
}

/** What one search covers. */
export interface SearchScope {
  topic: string;
  group: string;
  partitions: number;
  filter: Readonly<DeadLetterFilter>;
  /** Replays after which a message counts as parked. */
  maxReplays: number;
}

/** One partition's step: what to walk, or null when the partition cannot hold a match. */
type Plan = Pick<SearchStepInput, 'mode' | 'tag'> | null;

/**
 * Searches dead letters through their index: per partition it walks the most selective candidate
 * list (the message key's dead letters, the smaller of the reason's and the error name's posting
 * streams, or else the dead letters themselves) within the time range, and checks every filter on
 * each candidate inside Redis. Pages are bounded by a candidate budget and continue by cursor.
 */
export class DeadLetterSearch {
  constructor(private readonly ctx: BrookContext) {}

  /** Parses a page cursor (`<partition>:<stream ID>`) against the scope; throws on anything else. */
  position(scope: SearchScope, cursor: string | undefined): SearchPosition {
    const first = scope.filter.partition ?? 0;
    if (cursor === undefined) return { partition: first };
    const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
    if (match === null || Number(match[1]) >= scope.partitions || Number(match[1]) < first || (scope.filter.partition !== undefined && Number(match[1]) !== scope.filter.partition)) {
      throw new InvalidArgumentError(`Invalid cursor ${JSON.stringify(cursor)}: pass the nextCursor of the previous page with the same filters.`);
    }
    return { partition: Number(match[1]), after: match[2] };
  }

  /** A page of matching dead letters, by partition then age, and the cursor of the next page (null at the end). */
  async page(scope: SearchScope, cursor: string | undefined, limit: number): Promise<{ items: DeadLetter[]; nextCursor: string | null }> {
    const position = this.position(scope, cursor);
    const items: DeadLetter[] = [];
    let budget = PAGE_BUDGET;
    let bytes = 0;
    const last = scope.filter.partition ?? scope.partitions - 1;
    for (let p = position.partition; p <= last; p++) {
      const plan = await this.plan(scope, p);
      if (plan === null) continue;
      let after = p === position.partition ? position.after : undefined;
      for (;;) {
        const stepBudget = Math.min(STEP_BUDGET, budget);
        const step = await this.ctx.call(SCRIPTS.searchDeadLetters, {
          ...this.stepInput(scope, p, plan, after),
          limit: limit - items.length,
          budget: stepBudget,
          maxBytes: PAGE_BYTES - bytes,
        });
        for (const [id, fields] of step.matches) {
          items.push(parseDeadLetter(scope.topic, scope.group, p, id, fields, scope.maxReplays));
          bytes += fields.reduce((sum, field) => sum + field.length, id.length);
        }
        // What the step examined, not what it was allowed: short partitions leave the budget to the next.
        budget -= Math.max(1, step.examined);
        if (step.last !== '') after = step.last;
        const full = items.length >= limit || budget <= 0 || bytes >= PAGE_BYTES;
        if (full) {
          if (step.done && p === last) return { items, nextCursor: null };
          return { items, nextCursor: step.done ? `${p + 1}:0-0` : `${p}:${after}` };
        }
        if (step.done) break;
      }
    }
    return { items, nextCursor: null };
  }

  /**
   * Counts matches, examining at most `budget` candidates: `complete` is false when the budget ran
   * out first (the count is then a lower bound).
   */
  async count(scope: SearchScope, budget: number): Promise<{ matched: number; complete: boolean }> {
    let matched = 0;
    const last = scope.filter.partition ?? scope.partitions - 1;
    for (let p = scope.filter.partition ?? 0; p <= last; p++) {
      const plan = await this.plan(scope, p);
      if (plan === null) continue;
      let after: string | undefined;
      for (;;) {
        if (budget <= 0) return { matched, complete: false };
        const stepBudget = Math.min(STEP_BUDGET * 5, budget);
        const step = await this.ctx.call(SCRIPTS.searchDeadLetters, {
          ...this.stepInput(scope, p, plan, after),
          limit: Number.MAX_SAFE_INTEGER,
          budget: stepBudget,
          maxBytes: Number.MAX_SAFE_INTEGER,
          countOnly: true,
        });
        matched += step.count;
        budget -= Math.max(1, step.examined);
        if (step.done) break;
        after = step.last;
      }
    }
    return { matched, complete: true };
  }

  /**
   * One step on one partition: up to `limit` matching dead letters after `after` and at or below
   * `upTo` (a dead-letter stream ID), and where to continue. Replay jobs walk partitions with it.
   */
  async step(scope: SearchScope, partition: number, after: string | undefined, upTo: string, limit: number): Promise<{ matches: Array<[string, Buffer[]]>; last: string; done: boolean }> {
    const plan = await this.plan(scope, partition);
    if (plan === null) return { matches: [], last: '', done: true };
    const input = this.stepInput(scope, partition, plan, after);
    const end = input.end === '+' || compareIds(upTo, input.end) < 0 ? upTo : input.end;
    return this.ctx.call(SCRIPTS.searchDeadLetters, { ...input, end, limit, budget: STEP_BUDGET, maxBytes: PAGE_BYTES });
  }

  private stepInput(scope: SearchScope, partition: number, plan: NonNullable<Plan>, after: string | undefined) {
    const { filter } = scope;
    return {
      topic: scope.topic,
      partition,
      group: scope.group,
      ...plan,
      // A cursor before the time range (the start of the next partition) starts at the range.
      start: after !== undefined && (filter.from === undefined || compareIds(after, `${filter.from}-0`) >= 0) ? `(${after}` : filter.from !== undefined ? `${filter.from}-0` : '-',
      end: filter.to !== undefined ? `${filter.to}-${MAX_SEQ}` : '+',
      reason: filter.reason,
      errorName: filter.errorName,
      text: filter.errorMessage?.toLowerCase(),
      key: filter.key,
      fromOffset: filter.fromOffset,
      toOffset: filter.toOffset,
      parked: filter.parked,
      maxReplays: scope.maxReplays,
    };
  }

  /** The most selective candidate list of a partition, from the index's tag counts. */
  private async plan(scope: SearchScope, partition: number): Promise<Plan> {
    const { filter } = scope;
    if (filter.key !== undefined) return { mode: 'key' };
    const tags = [filter.reason === undefined ? undefined : reasonTag(filter.reason), filter.errorName === undefined ? undefined : errorTag(filter.errorName)].filter(
      (tag): tag is string => tag !== undefined,
    );
    if (tags.length === 0) return { mode: 'log' };
    const counts = await this.ctx.run('read the dead-letter index', () => this.ctx.client.hmget(this.ctx.keys.deadLetterTags(scope.topic, partition, scope.group), ...tags));
    let best: { tag: string; count: number } | undefined;
    for (let i = 0; i < tags.length; i++) {
      const count = Number(counts[i] ?? 0);
      if (count === 0) return null;
      if (best === undefined || count < best.count) best = { tag: tags[i], count };
    }
    return { mode: 'postings', tag: best!.tag };
  }
}

/** Orders two stream IDs. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}
