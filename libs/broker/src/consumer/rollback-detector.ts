import type { BrookContext } from '../client/context.js';
import { DataLossError } from '../errors/errors.js';
import { SCRIPTS } from '../redis/script-table.js';
import { parsePartitionKey, partitionKey, type TopicPartition } from './topic-partition.js';

/** The last message a member read from a partition. */
interface LastRead {
  offset: number;
  messageId: string;
}

/**
 * Notices that Redis lost writes a member had read — a restart from an older snapshot, a failover
 * to a replica that lagged — by looking up, after a change of server and when it takes a partition,
 * the last message it read: gone although the log never reached past it since, or another message
 * at its offset, means the offsets were handed out again. Reported once per finding: an event, a
 * log line and the group's `rollbacks` counter.
 */
export class RollbackDetector {
  private readonly lastRead = new Map<string, LastRead>();

  constructor(
    private readonly ctx: BrookContext,
    private readonly group: string,
    private readonly reportError: (operation: string, error: unknown) => void,
  ) {}

  /** The member read `tp` up to this message. */
  read(tp: TopicPartition, offset: number, messageId: string): void {
    this.lastRead.set(partitionKey(tp.topic, tp.partition), { offset, messageId });
  }

  /** Checks every partition the member has read (after a change of Redis server). */
  async checkAll(): Promise<void> {
    await Promise.all([...this.lastRead.keys()].map((key) => this.check(parsePartitionKey(key))));
  }

  /** Checks one partition: is its last message read still where it was? */
  async check(tp: TopicPartition): Promise<void> {
    const key = partitionKey(tp.topic, tp.partition);
    const last = this.lastRead.get(key);
    if (last === undefined) return;
    const { topic, partition } = tp;
    try {
      const log = this.ctx.keys.log(topic, partition);
      const id = `0-${last.offset + 1}`;
      const [entries, offsets] = await Promise.all([
        this.ctx.run(`check partition ${partition} of '${topic}'`, () => this.ctx.client.xrange(log, id, id)),
        this.ctx.call(SCRIPTS.partitionOffsets, tp),
      ]);
      if (this.lastRead.get(key) !== last) return;
      const fields = entries[0]?.[1];
      const messageId = fields === undefined ? undefined : (fields[fields.indexOf('i') + 1] ?? '');
      // Retention may have removed it: then the log went on past it.
      const lost = messageId === undefined ? offsets.highOffset <= last.offset : messageId !== last.messageId;
      if (!lost) return;
      this.lastRead.delete(key);
      this.reportError(
        `check partition ${partition} of '${topic}'`,
        new DataLossError(
          `Redis lost writes of partition ${partition} of '${topic}' that this member had read: offset ${last.offset} ` +
            (messageId === undefined ? `is gone and the log ends at ${offsets.highOffset}` : `now holds another message`) +
            ` (a restart from an older snapshot, or a failover to a lagging replica). Offsets are handed out again from where Redis went back to.`,
        ),
      );
      const stats = this.ctx.keys.stats(topic, partition, this.group);
      await this.ctx.run('count a rollback', () => this.ctx.client.hincrby(stats, 'rollbacks', 1));
    } catch (error) {
      this.reportError(`check partition ${partition} of '${topic}' for lost writes`, error);
    }
  }
}
