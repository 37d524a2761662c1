import type { BrookContext } from '../client/context.js';
import { BrokerError, InvalidArgumentError } from '../errors/errors.js';
import { SCRIPTS } from '../redis/script-table.js';
import { deadLetterFields } from './dead-letter-record.js';

/** What `skip` did: the message dead-lettered with reason `operator`. */
export interface SkipResult {
  partition: number;
  /** Offset of the message the partition was stuck on. */
  offset: number;
  /** Its dead-letter id (`<partition>-<stream ID>`). */
  deadLetterId: string;
}

/**
 * Dead-letters the message a group's partition is stuck on (the oldest one still pending, which a
 * blocking retry holds), with reason `operator`, through the same atomic script a worker uses, in
 * the name of the lease's current holder. The worker's next failure record for it finds it gone
 * and moves on to the next message.
 */
export async function skipStuckMessage(ctx: BrookContext, { topic, group, partition, actor }: { topic: string; group: string; partition: number; actor: string }): Promise<SkipResult> {
  const log = ctx.keys.log(topic, partition);
  for (let attempt = 0; attempt < 3; attempt++) {
    const token = await ctx.run('read the lease', () => ctx.client.get(ctx.keys.lease(topic, partition, group)));
    if (token === null) {
      throw new InvalidArgumentError(`No member of '${group}' owns partition ${partition} of '${topic}': nothing is stuck there (a message is stuck only while its owner retries it).`);
    }
    const pending = (await ctx.run('read pending messages', () => ctx.client.xpending(log, group, '-', '+', 1))) as Array<[string, string, number, number]>;
    if (pending.length === 0) throw new InvalidArgumentError(`'${group}' has nothing pending on partition ${partition} of '${topic}': no message to skip.`);
    const id = pending[0][0];
    const [entry] = (await ctx.run('read the message', () => ctx.client.xrangeBuffer(log, id, id))) as Array<[Buffer, Buffer[]]>;
    if (entry === undefined) throw new InvalidArgumentError(`The message the group is stuck on at partition ${partition} of '${topic}' was removed by retention; the group skips it itself.`);
    const fields = entry[1];
    const messageIndex = fields.findIndex((field, i) => i % 2 === 0 && field.toString('latin1') === 'i');
    const messageId = messageIndex < 0 ? '' : fields[messageIndex + 1].toString('utf8');
    const record = await ctx.run('read the failure record', () => ctx.client.hget(ctx.keys.attempts(topic, partition, group), id));
    const attempts = record === null ? 0 : Number((JSON.parse(record) as { attempts?: number }).attempts ?? 0);
    const offset = Number(id.split('-')[1]) - 1;
    const reply = await ctx.call(SCRIPTS.deadLetter, {
      topic, partition, group, token, id, messageId, source: 'log', failed: false,
      diagnostics: deadLetterFields({
        topic, partition, offset, group, handler: '', attempts, reason: 'operator',
        error: { name: 'OperatorSkip', message: `Skipped by ${actor}: the partition was stuck on this message.` },
      }),
      fields,
    });
    if (reply.status === 'ok') return { partition, offset, deadLetterId: `${partition}-${reply.deadLetterId}` };
    // 'fenced': the lease changed hands meanwhile; 'stale': the message just finished. Look again.
  }
  throw new BrokerError('INTERNAL', `Partition ${partition} of '${topic}' kept changing while skipping its stuck message for '${group}'; try again.`, { retriable: true });
}
