import type { BrookContext } from '../client/context.js';
import { runScript, runScriptBuffer } from '../redis/scripts.js';
import { seqOf, toEntries, type FetchedEntry } from './entry.js';

/** Where a message being processed came from. */
export type MessageSource = 'log' | 'delay';

/** A failed message on its way to the delay queue. */
export interface ParkedRetry {
  entry: FetchedEntry;
  source: MessageSource;
  nowMs: number;
  dueMs: number;
  /** JSON { name, message, stack } of the failure. */
  error: string;
}

/** Fenced state changes of one partition for one group member: one atomic script each. */
export class PartitionStore {
  readonly log: string;
  readonly lease: string;
  readonly delay: string;
  private readonly attempts: string;
  private readonly stats: string;
  private readonly payloads: string;
  private readonly dlt: string;

  constructor(
    private readonly ctx: BrookContext,
    readonly topic: string,
    readonly partition: number,
    private readonly group: string,
    private readonly memberId: string,
  ) {
    const { keys } = ctx;
    this.log = keys.log(topic, partition);
    this.lease = keys.lease(topic, partition, group);
    this.attempts = keys.attempts(topic, partition, group);
    this.stats = keys.stats(topic, partition, group);
    this.delay = keys.delayQueue(topic, partition, group);
    this.payloads = keys.delayPayloads(topic, partition, group);
    this.dlt = keys.deadLetters(topic, partition, group);
  }

  /** Takes over pending messages from `cursor` on. `null`: fenced; `'gone'`: no log or group. */
  async claim(cursor: string, count: number) {
    const reply = await runScriptBuffer<[number, Buffer?, Array<[Buffer, Buffer[]]>?, Buffer[]?, Array<Buffer | null>?]>(
      this.ctx.client,
      'claim',
      [this.log, this.lease, this.attempts],
      [this.group, this.memberId, cursor, count],
    );
    if (reply[0] === 0) return null;
    if (reply[0] === -1) return 'gone' as const;
    const [, next, raw, deleted, failures] = reply;
    return {
      next: next!.toString('latin1'),
      entries: toEntries(raw ?? [], failures),
      deletedOffsets: (deleted ?? []).map((id) => seqOf(id.toString('latin1')) - 1),
    };
  }

  /** Acknowledges processed log messages; false when fenced. */
  async ack(ids: string[]): Promise<boolean> {
    return (await runScript<number>(this.ctx.client, 'ack', [this.log, this.lease, this.attempts, this.stats], [this.group, this.memberId, ...ids])) !== -1;
  }

  /** Removes retried messages that succeeded from the delay queue; false when fenced. */
  async ackDelayed(ids: string[]): Promise<boolean> {
    return (await runScript<number>(this.ctx.client, 'ack-delayed', [this.lease, this.attempts, this.stats, this.delay, this.payloads], [this.memberId, ...ids])) !== -1;
  }

  /** Counts a failed attempt of a message retried in place; false when fenced. */
  async recordFailure(id: string, nowMs: number, error: string): Promise<boolean> {
    return (await runScript<number>(this.ctx.client, 'record-failure', [this.lease, this.attempts, this.stats], [this.memberId, id, nowMs, error])) !== -1;
  }

  /** Parks failed messages in the delay queue until their due times, in one step; false when fenced. */
  async scheduleRetries(retries: ParkedRetry[]): Promise<boolean> {
    const keys = [this.log, this.lease, this.attempts, this.stats, this.delay, this.payloads];
    const args: Array<string | number | Buffer> = [this.group, this.memberId, retries.length];
    for (const { entry, source, nowMs, dueMs, error } of retries) {
      const fields = source === 'log' ? entry.fields : [];
      args.push(entry.id, source, nowMs, dueMs, error, fields.length, ...fields);
    }
    return (await runScript<number>(this.ctx.client, 'schedule-retry', keys, args)) !== -1;
  }

  /** Moves a message to the dead-letter topic and acknowledges it; resolves with the dead letter's ID, or null when fenced. */
  async deadLetter(entry: FetchedEntry, source: MessageSource, nowMs: number, failed: boolean, diagnostics: Array<string | number>): Promise<string | null> {
    const keys = [this.log, this.lease, this.attempts, this.stats, this.delay, this.payloads, this.dlt];
    const args = [this.group, this.memberId, entry.id, source, nowMs, failed ? '1' : '0', diagnostics.length, ...diagnostics, ...entry.fields];
    const id = await runScript<string | number>(this.ctx.client, 'dead-letter', keys, args);
    return id === -1 ? null : String(id);
  }

  /** Due messages of the delay queue, hidden from other takes for `visibleMs`. `null`: fenced. */
  async takeDue(nowMs: number, count: number, visibleMs: number) {
    const reply = await runScriptBuffer<[number, Buffer[]?, Buffer[][]?, Array<Buffer | null>?, number?]>(
      this.ctx.client,
      'take-due',
      [this.lease, this.attempts, this.delay, this.payloads],
      [this.memberId, nowMs, count, visibleMs],
    );
    if (reply[0] === 0) return null;
    const [, ids = [], fields = [], failures = [], nextDue = -1] = reply;
    return {
      entries: toEntries(ids.map((id, i) => [id, fields[i]] as [Buffer, Buffer[]]), failures),
      nextDueMs: nextDue === -1 ? Infinity : nextDue,
    };
  }

  /** Moves the group's position so `offset` is read next; false when fenced. */
  async seek(offset: number): Promise<boolean> {
    return (await runScript<number>(this.ctx.client, 'reset-offset', [this.log, this.lease], [this.group, offset, this.memberId, '0'])) === 1;
  }

  /** Counts messages retention removed before the group read them. */
  async countSkipped(count: number): Promise<void> {
    await this.ctx.client.hincrby(this.stats, 'skipped', count);
  }
}
