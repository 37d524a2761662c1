import type { BrookContext } from '../client/context.js';
import { assertInteger } from '../client/brook.options.js';
import { InvalidArgumentError } from '../errors/errors.js';
import type { DeadLetterFilter } from './dead-letter-filter.js';

/** One recorded operator action: a dead-letter replay or purge, or a group deletion. */
export interface AuditEntry {
  id: string;
  at: number;
  /** Who did it, as passed by the caller (the broker host passes the token's name). */
  actor: string;
  /**
   * `replay`, `purge`; `replay-job` (started), `replay-job-end` (finished or cancelled); `skip`
   * (an operator dead-lettered the message a partition was stuck on); `delete-group`.
   */
  action: 'replay' | 'purge' | 'replay-job' | 'replay-job-end' | 'skip' | 'delete-group';
  /** The topic; for a group deletion, the group's topics separated by commas. */
  topic: string;
  group: string;
  /** Replays only: where the messages went. */
  to: 'group' | 'topic' | null;
  /** The dead-letter IDs asked for, 'all', or the filter that selected them. */
  selection: string[] | 'all' | DeadLetterFilter;
  /**
   * How many were replayed or purged (keys removed, for a group deletion), the IDs that did not
   * exist, the dead letters left parked by the replay cap, and the replay job concerned.
   */
  result: { count: number; missing: string[]; parked?: string[]; jobId?: string; state?: string };
}

/** Entries kept in the audit log (older ones are trimmed). */
const AUDIT_MAX_ENTRIES = 100_000;
const CURSOR = /^(\d{1,15})-(\d{1,15})$/;

/** The append-only record of every replay and purge. */
export class AuditLog {
  constructor(private readonly ctx: BrookContext) {}

  async append(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
    await this.ctx.run('write the audit log', () =>
      this.ctx.client.xadd(
        this.ctx.keys.audit(),
        'MAXLEN',
        '~',
        AUDIT_MAX_ENTRIES,
        '*',
        'actor', entry.actor,
        'action', entry.action,
        'topic', entry.topic,
        'group', entry.group,
        'to', entry.to ?? '',
        'selection', JSON.stringify(entry.selection),
        'result', JSON.stringify(entry.result),
      ),
    );
  }

  /** Newest first; pass `nextCursor` back to read older entries. */
  async read({ limit = 100, cursor }: { limit?: number; cursor?: string } = {}): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    assertInteger('limit', limit, 1, 1_000);
    const match = cursor === undefined ? undefined : typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
    if (match === null) throw new InvalidArgumentError(`Invalid cursor ${JSON.stringify(cursor)}: pass the nextCursor of the previous page.`);
    // Nothing is older than the smallest stream ID, and Redis refuses an exclusive range below it.
    if (match !== undefined && Number(match[1]) === 0 && Number(match[2]) === 0) return { items: [], nextCursor: null };
    await this.ctx.ready();
    const entries = await this.ctx.run('read the audit log', () =>
      this.ctx.client.xrevrange(this.ctx.keys.audit(), cursor === undefined ? '+' : `(${cursor}`, '-', 'COUNT', limit + 1),
    );
    const items = entries.slice(0, limit).map(([id, fields]) => {
      const get = (name: string) => fields[fields.indexOf(name) + 1];
      return {
        id,
        at: Number(id.split('-')[0]),
        actor: get('actor'),
        action: get('action') as AuditEntry['action'],
        topic: get('topic'),
        group: get('group'),
        to: (get('to') || null) as AuditEntry['to'],
        selection: JSON.parse(get('selection')) as AuditEntry['selection'],
        result: JSON.parse(get('result')) as AuditEntry['result'],
      };
    });
    return { items, nextCursor: entries.length > limit ? items[items.length - 1].id : null };
  }
}
