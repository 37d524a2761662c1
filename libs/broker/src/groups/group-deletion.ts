import type { BrookContext } from '../client/context.js';
import type { AuditLog } from '../dead-letters/audit-log.js';
import { GroupActiveError, InvalidArgumentError, UnknownGroupError } from '../errors/errors.js';
import { assertValidName } from '../names/names.js';
import { range } from '../topics/topic-admin.js';
import type { TopicRegistry } from '../topics/topic-registry.js';

/** What `admin.deleteGroup` takes. */
export interface DeleteGroupRequest {
  group: string;
  /**
   * Delete even while members are live. They lose their partitions at their next renewal, and a
   * member that keeps running registers the group again: stop them first. @defaultValue `false`
   */
  force?: boolean;
  /** Recorded in the audit log. @defaultValue `'admin'` */
  actor?: string;
}

/** What `admin.deleteGroup` returns. */
export interface DeleteGroupResult {
  group: string;
  /** The topics the group had consumed. */
  topics: string[];
  /** Redis keys removed. */
  keysDeleted: number;
}

/**
 * Removes every trace of a group: its position and pending list on each partition (the stream's
 * consumer group), leases, retry queues, failure records, dead letters, counters, lag history,
 * membership and registry entry. Refused while it has live members unless `force`. Not atomic
 * across partitions, but repeatable: the registry entry goes last, so a delete cut short is
 * finished by calling it again.
 */
export async function deleteGroup(ctx: BrookContext, registry: TopicRegistry, auditLog: AuditLog, request: DeleteGroupRequest): Promise<DeleteGroupResult> {
  if (request === null || typeof request !== 'object') throw new InvalidArgumentError("deleteGroup needs { group }, e.g. deleteGroup({ group: 'billing' }).");
  const { group, force = false, actor = 'admin' } = request;
  assertValidName('group', group);
  if (typeof force !== 'boolean') throw new InvalidArgumentError(`force must be true or false; got ${JSON.stringify(force)}.`);
  await ctx.ready();
  const { keys, client } = ctx;
  const summary = await ctx.run('read the group registry', () => client.hget(keys.groups(), group));
  if (summary === null) throw new UnknownGroupError(group);
  const topics = (JSON.parse(summary) as { topics: string[] }).topics;

  const [seconds, micros] = await ctx.run('read the Redis clock', () => client.time());
  const nowMs = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
  const live = await ctx.run(`count members of '${group}'`, () => client.zcount(keys.groupMembers(group), `(${nowMs}`, '+inf'));
  if (live > 0 && !force) throw new GroupActiveError(group, live, 'delete it');

  // Partitions the group knew ('<count> <since>' per topic), which may exceed a topic's count only if the topic was recreated smaller.
  const known = await ctx.run(`read the topics of '${group}'`, () => client.hgetall(keys.groupTopics(group)));
  let keysDeleted = 0;
  for (const topic of topics) {
    const config = await registry.get(topic, { fresh: true });
    const partitions = Math.max(config?.partitions ?? 0, Number.parseInt(known[topic] ?? '0', 10) || 0);
    const counts = await Promise.all(
      range(partitions).map(async (partition) => {
        const log = keys.log(topic, partition);
        // The group's position and pending list live in the log itself; a missing log or group is fine.
        const destroyed = await ctx.run(`remove '${group}' from partition ${partition} of '${topic}'`, () =>
          (client.xgroup('DESTROY', log, group) as Promise<number>).catch((error: unknown) => {
            if (error instanceof Error && /NOGROUP|no such key|requires the key to exist/i.test(error.message)) return 0;
            throw error;
          }),
        );
        // The dead-letter index's posting streams are named by the tags its count hash lists.
        const tags = await ctx.run(`read the dead-letter index of '${group}'`, () => client.hkeys(keys.deadLetterTags(topic, partition, group)));
        const postings = tags.map((tag) => keys.deadLetterPostings(topic, partition, group, tag));
        const removed = await ctx.run(`delete '${group}' state on partition ${partition} of '${topic}'`, () => client.del(...keys.groupPartitionKeys(topic, partition, group), ...postings));
        return removed + Number(destroyed);
      }),
    );
    keysDeleted += counts.reduce((sum, count) => sum + count, 0);
    keysDeleted += await ctx.run(`delete the lag history of '${group}'`, () => client.del(keys.lagHistory(group, topic)));
  }
  keysDeleted += await ctx.run(`delete the membership of '${group}'`, () => client.del(...keys.groupCoordinationKeys(group)));
  await ctx.run('update the group registry', () => client.hdel(keys.groups(), group));
  await auditLog.append({ actor, action: 'delete-group', topic: topics.join(','), group, to: null, selection: 'all', result: { count: keysDeleted, missing: [] } });
  return { group, topics, keysDeleted };
}
