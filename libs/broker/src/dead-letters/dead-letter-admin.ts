import type { BrookContext } from '../client/context.js';
import { assertInteger } from '../client/brook.options.js';
import { InvalidArgumentError, UnknownGroupError, UnknownTopicError } from '../errors/errors.js';
import { readGroupRegistry, requireGroupTopic } from '../groups/group-admin.js';
import { storedMessage } from '../message/wire.js';
import { assertValidName } from '../names/names.js';
import type { Producer } from '../producer/producer.js';
import { SCRIPTS } from '../redis/script-table.js';
import { range } from '../topics/topic-admin.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import type { AuditEntry, AuditLog } from './audit-log.js';
import { parseDeadLetter, parseDeadLetterId, type DeadLetter } from './dead-letter.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from './dead-letter-record.js';

/** What `list` takes. */
export interface DeadLetterQuery {
  topic: string;
  group: string;
  /** Only this partition. */
  partition?: number;
  /** Only dead letters with this reason. */
  reason?: DeadLetterReason;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
  /** Page size, at most 1,000. @defaultValue `100` */
  limit?: number;
}

/** Which dead letters an operation applies to: the listed IDs, or all of the group's on the topic. */
export interface DeadLetterSelection {
  topic: string;
  group: string;
  ids?: string[];
  all?: boolean;
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
}

/** Dead letters per topic and group. */
export interface DeadLetterCount {
  total: number;
  byTopicAndGroup: Array<{ topic: string; group: string; count: number }>;
}

const CURSOR = /^(\d{1,5}):(\d{1,15}-\d{1,15})$/;
const PAGE = 500;

/**
 * Dead-letter topics of every group: list, inspect, count, replay and purge. Every replay and purge
 * is recorded in the audit log.
 */
export class DeadLetterAdmin {
  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
    private readonly producer: () => Producer,
    private readonly auditLog: AuditLog,
  ) {}

  /** A page of a group's dead letters on a topic, by partition then age; pass `nextCursor` back for the next page. */
  async list(query: DeadLetterQuery): Promise<{ items: DeadLetter[]; nextCursor: string | null }> {
    if (query === null || typeof query !== 'object') throw new InvalidArgumentError('list needs { topic, group }.');
    const { topic, group, partition, reason, cursor, limit = 100 } = query;
    const partitions = await requireGroupTopic(this.ctx, this.registry, group, topic);
    assertInteger('limit', limit, 1, 1_000);
    if (partition !== undefined) assertInteger('partition', partition, 0, partitions - 1);
    if (reason !== undefined && !(DEAD_LETTER_REASONS as readonly string[]).includes(reason)) {
      throw new InvalidArgumentError(`Invalid reason ${JSON.stringify(reason)}: use one of ${DEAD_LETTER_REASONS.join(', ')}.`);
    }
    let from = partition ?? 0;
    let after: string | undefined;
    if (cursor !== undefined) {
      const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
      if (match === null || Number(match[1]) >= partitions || (partition !== undefined && Number(match[1]) !== partition)) {
        throw new InvalidArgumentError(`Invalid cursor ${JSON.stringify(cursor)}: pass the nextCursor of the previous page with the same filters.`);
      }
      from = Number(match[1]);
      after = match[2];
    }
    const to = partition ?? partitions - 1;
    const items: DeadLetter[] = [];
    // With a reason filter a page may need to look past non-matching entries; bound the scan.
    let budget = reason === undefined ? limit : limit * 10;
    for (let p = from; p <= to; p++) {
      let start = p === from && after !== undefined ? `(${after}` : '-';
      for (;;) {
        const count = reason === undefined ? limit - items.length : Math.max(limit - items.length, 100);
        const entries = await this.range(topic, group, p, start, count);
        for (const [id, fields] of entries) {
          budget--;
          const letter = parseDeadLetter(topic, group, p, id, fields);
          if (reason === undefined || letter.reason === reason) items.push(letter);
          if (items.length === limit || budget <= 0) {
            const more = await this.anyAfter(topic, group, p, id, to);
            return { items, nextCursor: more ? `${p}:${id}` : null };
          }
        }
        if (entries.length < count) break;
        start = `(${entries[entries.length - 1][0]}`;
      }
    }
    return { items, nextCursor: null };
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
   * are not affected) or, with `to: 'topic'`, re-published to the topic for every group. Replaying
   * to the topic appends first and removes the dead letter after, so a crash in between can repeat
   * a message but never lose it.
   */
  async replay(request: ReplayRequest): Promise<{ replayed: number; missing: string[] }> {
    const to = request?.to ?? 'group';
    if (to !== 'group' && to !== 'topic') throw new InvalidArgumentError(`replay 'to' must be 'group' or 'topic'; got ${JSON.stringify(to)}.`);
    const { topic, group, actor, selection, byPartition } = await this.select(request);
    let replayed = 0;
    const found = new Set<string>();
    for (const [partition, ids] of byPartition) {
      for await (const chunk of this.chunks(topic, group, partition, ids)) {
        const done = to === 'group' ? await this.replayToGroup(topic, group, partition, chunk) : await this.replayToTopic(topic, group, partition, chunk);
        replayed += done.length;
        for (const id of done) found.add(`${partition}-${id}`);
      }
    }
    const missing = selection === 'all' ? [] : selection.filter((id) => !found.has(id));
    await this.auditLog.append({ actor, action: 'replay', topic, group, to, selection, result: { count: replayed, missing } });
    return { replayed, missing };
  }

  /** Deletes dead letters for good. */
  async purge(request: DeadLetterSelection): Promise<{ purged: number; missing: string[] }> {
    const { topic, group, actor, selection, byPartition } = await this.select(request);
    let purged = 0;
    const missing: string[] = [];
    for (const [partition, ids] of byPartition) {
      const key = this.ctx.keys.deadLetters(topic, partition, group);
      if (ids === 'all') {
        purged += await this.ctx.run('purge dead letters', () => this.ctx.client.xtrim(key, 'MAXLEN', 0));
        continue;
      }
      for (const id of ids) {
        const deleted = await this.ctx.run('purge dead letters', () => this.ctx.client.xdel(key, id));
        purged += deleted;
        if (deleted === 0) missing.push(`${partition}-${id}`);
      }
    }
    await this.auditLog.append({ actor, action: 'purge', topic, group, to: null, selection, result: { count: purged, missing } });
    return { purged, missing };
  }

  /** Recorded replays and purges, newest first. */
  audit(options?: { limit?: number; cursor?: string }): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    return this.auditLog.read(options);
  }

  private async select(request: DeadLetterSelection) {
    if (request === null || typeof request !== 'object') throw new InvalidArgumentError('Pass { topic, group, ids } or { topic, group, all: true }.');
    const { topic, group, ids, all, actor = 'admin' } = request;
    const partitions = await requireGroupTopic(this.ctx, this.registry, group, topic);
    if (typeof actor !== 'string' || actor.length === 0 || actor.length > 200) throw new InvalidArgumentError('actor must be a string of 1 to 200 characters.');
    const byPartition = new Map<number, string[] | 'all'>();
    if (all === true && ids === undefined) {
      for (const partition of range(partitions)) byPartition.set(partition, 'all');
      return { topic, group, actor, selection: 'all' as const, byPartition };
    }
    if (all !== undefined && all !== false) throw new InvalidArgumentError('Pass either ids or all: true, not both.');
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1_000) {
      throw new InvalidArgumentError('Pass ids (1 to 1,000 dead-letter IDs from list()) or all: true.');
    }
    for (const id of ids) {
      const { partition, streamId } = parseDeadLetterId(id);
      if (partition >= partitions) throw new InvalidArgumentError(`Dead-letter id '${id}' names partition ${partition}, but '${topic}' has ${partitions}.`);
      const list = byPartition.get(partition);
      if (list === undefined) byPartition.set(partition, [streamId]);
      else if (list !== 'all') list.push(streamId);
    }
    return { topic, group, actor, selection: [...new Set(ids)], byPartition };
  }

  /** The stream IDs to work on, in chunks; for 'all', what exists now (later arrivals are left alone). */
  private async *chunks(topic: string, group: string, partition: number, ids: string[] | 'all'): AsyncGenerator<string[]> {
    if (ids !== 'all') {
      for (let i = 0; i < ids.length; i += PAGE) yield ids.slice(i, i + PAGE);
      return;
    }
    const key = this.ctx.keys.deadLetters(topic, partition, group);
    const [last] = await this.ctx.run('read dead letters', () => this.ctx.client.xrevrange(key, '+', '-', 'COUNT', 1));
    if (last === undefined) return;
    let start = '-';
    for (;;) {
      const entries = await this.ctx.run('read dead letters', () => this.ctx.client.xrange(key, start, last[0], 'COUNT', PAGE));
      if (entries.length === 0) return;
      yield entries.map(([id]) => id);
      start = `(${entries[entries.length - 1][0]}`;
    }
  }

  private replayToGroup(topic: string, group: string, partition: number, ids: string[]): Promise<string[]> {
    return this.ctx.call(SCRIPTS.replayDeadLetters, { topic, partition, group, ids });
  }

  private async replayToTopic(topic: string, group: string, partition: number, ids: string[]): Promise<string[]> {
    const key = this.ctx.keys.deadLetters(topic, partition, group);
    const entries = (await Promise.all(ids.map((id) => this.range(topic, group, partition, id, 1, id)))).flat();
    if (entries.length === 0) return [];
    await this.producer().sendEncoded(topic, entries.map(([, fields]) => storedMessage(fields)));
    const found = entries.map(([id]) => id);
    await this.ctx.run('remove replayed dead letters', () => this.ctx.client.xdel(key, ...found));
    return found;
  }

  private async range(topic: string, group: string, partition: number, start: string, count: number, end = '+'): Promise<Array<[string, Buffer[]]>> {
    const key = this.ctx.keys.deadLetters(topic, partition, group);
    const entries = (await this.ctx.run('read dead letters', () => this.ctx.client.xrangeBuffer(key, start, end, 'COUNT', count))) as Array<[Buffer, Buffer[]]>;
    return entries.map(([id, fields]) => [id.toString('latin1'), fields]);
  }

  /** Whether any dead letter follows `id` on `partition` or exists on a later partition up to `last`. */
  private async anyAfter(topic: string, group: string, partition: number, id: string, last: number): Promise<boolean> {
    if ((await this.range(topic, group, partition, `(${id}`, 1)).length > 0) return true;
    for (let p = partition + 1; p <= last; p++) {
      if ((await this.ctx.client.xlen(this.ctx.keys.deadLetters(topic, p, group))) > 0) return true;
    }
    return false;
  }
}
