import type { BrookContext } from '../client/context.js';
import { assertInteger } from '../client/brook.options.js';
import { InvalidArgumentError, UnknownGroupError, UnknownTopicError } from '../errors/errors.js';
import { readGroupRegistry, requireGroupTopic } from '../groups/group-admin.js';
import { storedMessage } from '../message/wire.js';
import { assertValidName } from '../names/names.js';
import type { Producer } from '../producer/producer.js';
import { range } from '../topics/topic-admin.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import type { AuditEntry, AuditLog } from './audit-log.js';
import { DEFAULT_MAX_REPLAYS, parseDeadLetter, parseDeadLetterId, type DeadLetter } from './dead-letter.js';
import { isEmptyFilter, resolveDeadLetterFilter, type DeadLetterFilter } from './dead-letter-filter.js';
import { DeadLetterIndex } from './dead-letter-index.js';
import { DeadLetterSearch, type SearchScope } from './dead-letter-search.js';
import type { DeadLetterRetentionPolicy } from './dead-letter-retention.js';
import type { ReplayJobs, ReplayJobStatus } from './replay-jobs.js';
import { skipStuckMessage, type SkipResult } from './skip-message.js';

/** What `list` takes: the scope, any filter fields, and the page. */
export interface DeadLetterQuery extends DeadLetterFilter {
  topic: string;
  group: string;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
  /** Page size, at most 1,000. @defaultValue `100` */
  limit?: number;
  /** Replays after which a message counts as parked. @defaultValue `3` */
  maxReplays?: number;
}

/**
 * Which dead letters an operation applies to: the listed IDs, all of the group's on the topic, or
 * those matching a filter (the same filters as `list`).
 */
export interface DeadLetterSelection {
  topic: string;
  group: string;
  ids?: string[];
  all?: boolean;
  filter?: DeadLetterFilter;
  /** Recorded in the audit log. @defaultValue `'admin'` */
  actor?: string;
}

/** What `replay` takes. */
export interface ReplayRequest extends DeadLetterSelection {
  /**
   * `'group'`: back to the group that failed them only (through its delay queue, attempts reset).
   * `'topic'`: re-published to the topic, so every group receives them again.
   * @defaultValue `'group'`
   */
  to?: 'group' | 'topic';
  /** Only count what matches and show a sample; change nothing. @defaultValue `false` */
  dryRun?: boolean;
  /** A message already replayed this often is parked instead of replayed (0: no cap). @defaultValue `3` */
  maxReplays?: number;
  /** Replay parked messages too. @defaultValue `false` */
  force?: boolean;
  /** A replay job's pace (a selection larger than one page runs as a job). @defaultValue `1000` */
  maxPerSecond?: number;
}

/** What a dry run answers. */
export interface ReplayPreview {
  dryRun: true;
  /** How many dead letters match (a lower bound when `complete` is false). */
  matched: number;
  /** Of those in the sample, how many are parked (left out unless `force`). */
  complete: boolean;
  /** The first matches, at most 10. */
  sample: DeadLetter[];
}

/** What a replay answers: done at once (a page or less), or the replay job that carries it out. */
export interface ReplayResult {
  replayed: number;
  /** Dead-letter IDs left parked by the replay cap. */
  parked: string[];
  missing: string[];
  /** The replay job started for a selection larger than one page; null when done at once. */
  job: ReplayJobStatus | null;
}

/** Dead letters per topic and group. */
export interface DeadLetterCount {
  total: number;
  byTopicAndGroup: Array<{ topic: string; group: string; count: number }>;
}

/** Most dead letters one replay or purge moves at once; more run as a replay job (replay) or in batches (purge). */
export const REPLAY_PAGE = 500;
/** Candidates a dry run examines at most while counting. */
const DRY_RUN_BUDGET = 1_000_000;
const SAMPLE = 10;

/**
 * Dead-letter topics of every group: search, inspect, count, replay (at once, as a replay job, or
 * as a dry run) and purge. Every replay, replay job and purge is recorded in the audit log.
 */
export class DeadLetterAdmin {
  private readonly search: DeadLetterSearch;
  private readonly index: DeadLetterIndex;

  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
    private readonly producer: () => Producer,
    private readonly auditLog: AuditLog,
    /** Replay jobs: start one with `replay`, follow it with `replayJob`, stop it with `cancelReplayJob`. */
    readonly jobs: ReplayJobs,
    /** Dead-letter retention per group and topic: `get`, `set`, and `enforce` (the active controller's). */
    readonly retention: DeadLetterRetentionPolicy,
  ) {
    this.search = new DeadLetterSearch(ctx);
    this.index = new DeadLetterIndex(ctx);
  }

  /**
   * A page of a group's dead letters on a topic matching the filters, by partition then age; pass
   * `nextCursor` back for the next page. The search walks the index, not the dead letters: a page
   * examines at most 10,000 candidates and may come back short with a cursor to continue.
   */
  async list(query: DeadLetterQuery): Promise<{ items: DeadLetter[]; nextCursor: string | null }> {
    if (query === null || typeof query !== 'object') throw new InvalidArgumentError('list needs { topic, group }.');
    const { topic, group, cursor, limit = 100, maxReplays = DEFAULT_MAX_REPLAYS, ...filter } = query;
    assertInteger('limit', limit, 1, 1_000);
    const scope = await this.scope(topic, group, filter, maxReplays);
    const page = await this.search.page(scope, cursor, limit);
    return page;
  }

  /** One dead letter by ID, or null when it does not exist (anymore). */
  async get({ topic, group, id }: { topic: string; group: string; id: string }): Promise<DeadLetter | null> {
    const partitions = await requireGroupTopic(this.ctx, this.registry, group, topic);
    const { partition, streamId } = parseDeadLetterId(id);
    if (partition >= partitions) return null;
    const [entry] = await this.range(topic, group, partition, streamId, 1, streamId);
    return entry === undefined ? null : parseDeadLetter(topic, group, partition, entry[0], entry[1]);
  }

  /** How many dead letters each group holds per topic (optionally for one topic or group). */
  async count({ topic, group }: { topic?: string; group?: string } = {}): Promise<DeadLetterCount> {
    if (topic !== undefined) assertValidName('topic', topic);
    if (group !== undefined) assertValidName('group', group);
    await this.ctx.ready();
    const groups = await readGroupRegistry(this.ctx);
    if (group !== undefined && !groups.has(group)) throw new UnknownGroupError(group);
    if (topic !== undefined && (await this.registry.get(topic, { fresh: true })) === undefined) throw new UnknownTopicError(topic);
    const byTopicAndGroup: DeadLetterCount['byTopicAndGroup'] = [];
    for (const [name, topics] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (group !== undefined && name !== group) continue;
      for (const consumed of [...topics].sort()) {
        if (topic !== undefined && consumed !== topic) continue;
        const config = await this.registry.get(consumed);
        if (config === undefined) continue;
        const lengths = await this.ctx.run(`count dead letters of '${name}' on '${consumed}'`, () =>
          Promise.all(range(config.partitions).map((p) => this.ctx.client.xlen(this.ctx.keys.deadLetters(consumed, p, name)))),
        );
        byTopicAndGroup.push({ topic: consumed, group: name, count: lengths.reduce((a, b) => a + b, 0) });
      }
    }
    return { total: byTopicAndGroup.reduce((sum, entry) => sum + entry.count, 0), byTopicAndGroup };
  }

  /**
   * Sends dead letters back for another try: to the group that failed them (default; other groups
   * are not affected) or, with `to: 'topic'`, re-published to the topic for every group. Select by
   * `ids`, `all: true` or `filter`. With `dryRun: true` it only counts and samples what matches. A
   * selection of more than one page (500) replays as a replay job, returned in `job`. A message
   * replayed `maxReplays` times already stays parked unless `force`. Replaying to the topic
   * appends first and removes the dead letter after, so a crash in between can repeat a message
   * but never lose it.
   */
  async replay(request: ReplayRequest & { dryRun: true }): Promise<ReplayPreview>;
  async replay(request: ReplayRequest): Promise<ReplayResult>;
  async replay(request: ReplayRequest): Promise<ReplayResult | ReplayPreview> {
    const to = request?.to ?? 'group';
    if (to !== 'group' && to !== 'topic') throw new InvalidArgumentError(`replay 'to' must be 'group' or 'topic'; got ${JSON.stringify(to)}.`);
    const { dryRun = false, maxReplays = DEFAULT_MAX_REPLAYS, force = false, maxPerSecond = 1_000 } = request;
    if (typeof dryRun !== 'boolean') throw new InvalidArgumentError('dryRun must be true or false.');
    if (typeof force !== 'boolean') throw new InvalidArgumentError('force must be true or false.');
    assertInteger('maxReplays', maxReplays, 0, 1_000);
    assertInteger('maxPerSecond', maxPerSecond, 1, 100_000);
    const selection = await this.select(request, maxReplays);
    if (dryRun) return this.preview(selection);
    const cap = force ? 0 : maxReplays;
    const { topic, group, actor } = selection;
    if (selection.ids !== undefined) {
      const result = await this.replayIds(topic, group, selection.ids, to, cap);
      await this.auditLog.append({ actor, action: 'replay', topic, group, to, selection: selection.ids, result: { count: result.replayed, missing: result.missing, parked: result.parked } });
      return { ...result, job: null };
    }
    const first = await this.search.page(selection.scope, undefined, REPLAY_PAGE);
    if (first.nextCursor !== null || to === 'topic' && first.items.length === REPLAY_PAGE) {
      if (to === 'topic') throw new InvalidArgumentError(`More than ${REPLAY_PAGE} dead letters match: re-publishing to the topic takes ids or a narrower filter; replay jobs send to the group.`);
      const job = await this.jobs.start({ topic, group, partitions: selection.scope.partitions, filter: selection.filter, maxReplays: cap, maxPerSecond, actor });
      return { replayed: 0, parked: [], missing: [], job };
    }
    const result = await this.replayIds(topic, group, first.items.map((letter) => letter.id), to, cap);
    await this.auditLog.append({
      actor, action: 'replay', topic, group, to, selection: selection.all ? 'all' : selection.filter,
      result: { count: result.replayed, missing: [], parked: result.parked },
    });
    return { ...result, missing: [], job: null };
  }

  /** A replay job's progress, or null when there is none by that id. */
  replayJob(id: string): Promise<ReplayJobStatus | null> {
    return this.jobs.get(id);
  }

  /** Stops a replay job after its current step; what it replayed stays replayed. */
  cancelReplayJob(id: string, actor = 'admin'): Promise<ReplayJobStatus | null> {
    return this.jobs.cancel(id, actor);
  }

  /** Replay jobs, newest first. */
  listReplayJobs(): Promise<ReplayJobStatus[]> {
    return this.jobs.list();
  }

  /**
   * Deletes dead letters for good: by `ids`, `all: true` or `filter`, in batches. With
   * `dryRun: true` it only counts and samples what matches, parked ones included.
   */
  async purge(request: DeadLetterSelection & { dryRun: true }): Promise<ReplayPreview>;
  async purge(request: DeadLetterSelection & { dryRun?: false }): Promise<{ purged: number; missing: string[] }>;
  async purge(request: DeadLetterSelection & { dryRun?: boolean }): Promise<{ purged: number; missing: string[] } | ReplayPreview>;
  async purge(request: DeadLetterSelection & { dryRun?: boolean }): Promise<{ purged: number; missing: string[] } | ReplayPreview> {
    const dryRun = request?.dryRun ?? false;
    if (typeof dryRun !== 'boolean') throw new InvalidArgumentError('dryRun must be true or false.');
    // Parked dead letters are purged like any other: nothing is left out for the replay cap.
    if (dryRun) return this.preview(await this.select(request, 0));
    const selection = await this.select(request, DEFAULT_MAX_REPLAYS);
    const { topic, group, actor } = selection;
    let purged = 0;
    const missing: string[] = [];
    if (selection.ids !== undefined) {
      for (const [partition, ids] of byPartition(selection.ids)) {
        const removed = new Set(await this.index.remove({ topic, partition, group }, ids));
        purged += removed.size;
        for (const id of ids) if (!removed.has(id)) missing.push(`${partition}-${id}`);
      }
    } else {
      // Only what exists now: each partition's last ID bounds the walk, later arrivals are left alone.
      let cursor: string | undefined;
      const seen = new Set<string>();
      for (;;) {
        const page = await this.search.page(selection.scope, cursor, REPLAY_PAGE);
        for (const [partition, ids] of byPartition(page.items.map((letter) => letter.id).filter((id) => !seen.has(id)))) {
          purged += (await this.index.remove({ topic, partition, group }, ids)).length;
        }
        for (const letter of page.items) seen.add(letter.id);
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
    }
    await this.auditLog.append({ actor, action: 'purge', topic, group, to: null, selection: selection.ids ?? (selection.all ? 'all' : selection.filter), result: { count: purged, missing } });
    return { purged, missing };
  }

  /**
   * Skips the message a group's partition is stuck on (blocking retries hold it while it keeps
   * failing): dead-letters it with reason `operator`, so the partition moves on. Audited.
   */
  async skip({ topic, group, partition, actor = 'admin' }: { topic: string; group: string; partition: number; actor?: string }): Promise<SkipResult> {
    const partitions = await requireGroupTopic(this.ctx, this.registry, group, topic);
    assertInteger('partition', partition, 0, partitions - 1);
    if (typeof actor !== 'string' || actor.length === 0 || actor.length > 200) throw new InvalidArgumentError('actor must be a string of 1 to 200 characters.');
    const result = await skipStuckMessage(this.ctx, { topic, group, partition, actor });
    await this.auditLog.append({ actor, action: 'skip', topic, group, to: null, selection: [result.deadLetterId], result: { count: 1, missing: [] } });
    return result;
  }

  /** Recorded replays, replay jobs and purges, newest first. */
  audit(options?: { limit?: number; cursor?: string }): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    return this.auditLog.read(options);
  }

  private async preview(selection: Selection): Promise<ReplayPreview> {
    if (selection.ids !== undefined) {
      const letters = (await Promise.all(selection.ids.map((id) => this.get({ topic: selection.topic, group: selection.group, id })))).filter(
        (letter): letter is DeadLetter => letter !== null,
      );
      return { dryRun: true, matched: letters.length, complete: true, sample: letters.slice(0, SAMPLE) };
    }
    const [counted, page] = await Promise.all([
      isEmptyFilter(selection.filter) ? this.countAll(selection.scope) : this.search.count(selection.scope, DRY_RUN_BUDGET),
      this.search.page(selection.scope, undefined, SAMPLE),
    ]);
    return { dryRun: true, matched: counted.matched, complete: counted.complete, sample: page.items };
  }

  private async countAll(scope: SearchScope): Promise<{ matched: number; complete: boolean }> {
    const lengths = await this.ctx.run('count dead letters', () =>
      Promise.all(range(scope.partitions).map((p) => this.ctx.client.xlen(this.ctx.keys.deadLetters(scope.topic, p, scope.group)))),
    );
    return { matched: lengths.reduce((a, b) => a + b, 0), complete: true };
  }

  private async replayIds(topic: string, group: string, ids: string[], to: 'group' | 'topic', cap: number): Promise<{ replayed: number; parked: string[]; missing: string[] }> {
    let replayed = 0;
    const found = new Set<string>();
    const parked: string[] = [];
    for (const [partition, streamIds] of byPartition(ids)) {
      const ref = { topic, partition, group };
      if (to === 'group') {
        const done = await this.index.replay(ref, streamIds, cap);
        replayed += done.replayed.length;
        for (const id of done.replayed) found.add(`${partition}-${id}`);
        for (const id of done.parked) {
          found.add(`${partition}-${id}`);
          parked.push(`${partition}-${id}`);
        }
      } else {
        const done = await this.replayToTopic(topic, group, partition, streamIds);
        replayed += done.length;
        for (const id of done) found.add(`${partition}-${id}`);
      }
    }
    return { replayed, parked, missing: ids.filter((id) => !found.has(id)) };
  }

  private async scope(topic: string, group: string, filter: DeadLetterFilter | undefined, maxReplays: number): Promise<SearchScope> {
    const partitions = await requireGroupTopic(this.ctx, this.registry, group, topic);
    assertInteger('maxReplays', maxReplays, 0, 1_000);
    return { topic, group, partitions, filter: resolveDeadLetterFilter(filter, partitions), maxReplays };
  }

  private async select(request: DeadLetterSelection, maxReplays: number): Promise<Selection> {
    if (request === null || typeof request !== 'object') throw new InvalidArgumentError('Pass { topic, group } with ids, all: true or a filter.');
    const { topic, group, ids, all, filter, actor = 'admin' } = request;
    const scope = await this.scope(topic, group, filter, maxReplays);
    if (typeof actor !== 'string' || actor.length === 0 || actor.length > 200) throw new InvalidArgumentError('actor must be a string of 1 to 200 characters.');
    const given = [ids !== undefined, all !== undefined && all !== false, filter !== undefined].filter(Boolean).length;
    if (given !== 1) throw new InvalidArgumentError('Pass ids (1 to 1,000 dead-letter IDs from list()), or all: true, or a filter: exactly one of them.');
    if (all !== undefined && all !== true && all !== false) throw new InvalidArgumentError('all must be true.');
    if (ids === undefined) return { topic, group, actor, scope, filter: scope.filter, all: all === true };
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1_000) {
      throw new InvalidArgumentError('Pass ids (1 to 1,000 dead-letter IDs from list()), all: true or a filter.');
    }
    for (const id of ids) {
      const { partition } = parseDeadLetterId(id);
      if (partition >= scope.partitions) throw new InvalidArgumentError(`Dead-letter id '${id}' names partition ${partition}, but '${topic}' has ${scope.partitions}.`);
    }
    return { topic, group, actor, scope, filter: scope.filter, all: false, ids: [...new Set(ids)] };
  }

  private async replayToTopic(topic: string, group: string, partition: number, ids: string[]): Promise<string[]> {
    const entries = (await Promise.all(ids.map((id) => this.range(topic, group, partition, id, 1, id)))).flat();
    if (entries.length === 0) return [];
    await this.producer().sendEncoded(topic, entries.map(([, fields]) => storedMessage(fields)));
    return this.index.remove({ topic, partition, group }, entries.map(([id]) => id));
  }

  private async range(topic: string, group: string, partition: number, start: string, count: number, end = '+'): Promise<Array<[string, Buffer[]]>> {
    const key = this.ctx.keys.deadLetters(topic, partition, group);
    const entries = (await this.ctx.run('read dead letters', () => this.ctx.client.xrangeBuffer(key, start, end, 'COUNT', count))) as Array<[Buffer, Buffer[]]>;
    return entries.map(([id, fields]) => [id.toString('latin1'), fields]);
  }
}

interface Selection {
  topic: string;
  group: string;
  actor: string;
  scope: SearchScope;
  filter: Readonly<DeadLetterFilter>;
  all: boolean;
  ids?: string[];
}

/** Dead-letter IDs (`<partition>-<stream ID>`) grouped by partition, as stream IDs. */
function byPartition(ids: readonly string[]): Map<number, string[]> {
  const grouped = new Map<number, string[]>();
  for (const id of ids) {
    const { partition, streamId } = parseDeadLetterId(id);
    const list = grouped.get(partition);
    if (list === undefined) grouped.set(partition, [streamId]);
    else list.push(streamId);
  }
  return grouped;
}
