import type { BrookContext } from '../client/context.js';
import { unpackEntries, type LogEntry } from '../redis/packed-entries.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { OwnedPartitionRef } from '../redis/script-spec.js';
import type { MessageSource, ParkedMessage } from '../redis/specs/transitions.js';

export type { MessageSource } from '../redis/specs/transitions.js';

/** What a take-over read brought. */
export type ClaimResult = { status: 'ok'; cursor: string; entries: LogEntry[]; deletedOffsets: number[] } | { status: 'fenced' | 'gone' };

/** What a read of the delay queue brought. */
export type DueResult = { status: 'ok'; entries: LogEntry[]; msUntilNextDue: number } | { status: 'fenced' };

/**
 * The state changes of one partition for the worker holding its lease with one token: each is one
 * fenced, repeatable script (see `SCRIPTS`). Replies keep the script statuses; the worker decides
 * what `fenced` and `stale` mean for it.
 */
export class PartitionStore {
  readonly ref: OwnedPartitionRef;

  constructor(
    private readonly ctx: BrookContext,
    topic: string,
    partition: number,
    group: string,
    readonly token: string,
  ) {
    this.ref = { topic, partition, group, token };
  }

  /** Takes over pending messages of earlier owners from `cursor` on, within `maxBytes`. */
  async claim(cursor: string, count: number, maxBytes: number, averageBytes: number): Promise<ClaimResult> {
    const reply = await this.ctx.call(SCRIPTS.claim, { ...this.ref, cursor, count, maxBytes, averageBytes });
    if (reply.status !== 'ok') return reply;
    return {
      status: 'ok',
      cursor: reply.cursor,
      entries: unpackEntries(reply.packed, reply.failures),
      deletedOffsets: reply.deletedIds.map((id) => Number(id.slice(id.indexOf('-') + 1)) - 1),
    };
  }

  /**
   * Acknowledges handled log messages. The script vouches for the batch by its highest message; when
   * that one changed (Redis lost writes and handed its offset out again), every message is checked.
   */
  async ack(entries: readonly LogEntry[]) {
    const messages = entries.map(({ id, messageId }) => ({ id, messageId }));
    const reply = await this.ctx.call(SCRIPTS.ack, { ...this.ref, messages });
    if (reply.status !== 'unverified') return reply;
    return this.ctx.call(SCRIPTS.ack, { ...this.ref, messages, verifyEach: true });
  }

  /** Removes retried messages that succeeded from the delay queue. */
  ackDelayed(entries: readonly LogEntry[]) {
    return this.ctx.call(SCRIPTS.ackDelayed, { ...this.ref, ids: entries.map(({ id }) => id) });
  }

  /** Counts failed attempt `attempt` of a message retried in place. */
  recordFailure(entry: LogEntry, attempt: number, error: string) {
    return this.ctx.call(SCRIPTS.recordFailure, { ...this.ref, id: entry.id, messageId: entry.messageId, attempt, error });
  }

  /** Parks failed messages in the delay queue. */
  park(messages: readonly ParkedMessage[]) {
    return this.ctx.call(SCRIPTS.scheduleRetry, { ...this.ref, messages });
  }

  /** Moves a message to the dead-letter topic. */
  deadLetter(entry: LogEntry, source: MessageSource, failed: boolean, diagnostics: ReadonlyArray<string | number>) {
    return this.ctx.call(SCRIPTS.deadLetter, { ...this.ref, id: entry.id, messageId: entry.messageId, source, failed, diagnostics, fields: entry.fields });
  }

  /** Takes the due messages of the delay queue. */
  async takeDue(count: number, maxBytes: number): Promise<DueResult> {
    const reply = await this.ctx.call(SCRIPTS.takeDue, { ...this.ref, count, maxBytes });
    if (reply.status !== 'ok') return reply;
    return { status: 'ok', entries: unpackEntries(reply.packed, reply.failures), msUntilNextDue: reply.msUntilNextDue };
  }

  /** Moves the group's position so `offset` is read next. */
  seek(offset: number) {
    return this.ctx.call(SCRIPTS.resetOffset, { ...this.ref, offset, force: false });
  }

  /** Counts messages retention removed before the group read them. */
  async countSkipped(count: number): Promise<void> {
    await this.ctx.run('count skipped messages', () => this.ctx.client.hincrby(this.ctx.keys.stats(this.ref.topic, this.ref.partition, this.ref.group), 'skipped', count));
  }
}
