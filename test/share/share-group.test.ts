import { describe, expect, it } from 'vitest';
import { GroupKindConflictError, InvalidArgumentError, type Brook, type ShareConsumer } from '@brook/broker';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { groupTotals, ioDelay, startShareConsumer } from '../support/share-group.js';
import { ShareRunLog, tallyShare } from '../support/share-runs.js';

async function shareTopic(brook: Brook, partitions: number) {
  const topic = uniqueName('orders.shipped');
  await brook.admin().createTopic({ topic, partitions });
  return topic;
}

async function produce(brook: Brook, topic: string, total: number) {
  const producer = brook.producer();
  for (let i = 0; i < total; i += 500) {
    await producer.send({ topic, messages: Array.from({ length: Math.min(500, total - i) }, (_, j) => ({ key: `order-${i + j}`, value: { n: i + j } })) });
  }
}

describe('share groups', () => {
  it('hands every record to exactly one of two members running 20 handlers each; describeGroup shows a share group with lag 0, nothing pending and processed = total', async () => {
    const brook = createBrook();
    const other = createBrook({ prefix: brook.options.prefix });
    const topic = await shareTopic(brook, 4);
    const group = uniqueName('mailers');
    const log = new ShareRunLog({ redis: rawRedis(), prefix: brook.options.prefix, topic, group, lockMs: 30_000, key: `${brook.options.prefix}:runs` });
    const handler = () => ioDelay(2 + Math.floor(Math.random() * 5));
    const errors: unknown[] = [];
    const prepare = (consumer: ShareConsumer) => {
      consumer.on('crash', ({ error }) => errors.push(error));
      consumer.on('lock.lost', (event) => errors.push(event));
      consumer.on('retry', (event) => errors.push(event));
      consumer.on('dead-letter', (event) => errors.push(event));
    };
    const a = await startShareConsumer(brook, { group, topic, member: 'a', log, concurrency: 20, handler, prepare });
    const b = await startShareConsumer(other, { group, topic, member: 'b', log, concurrency: 20, handler, prepare });

    const total = 2_000;
    await produce(brook, topic, total);
    await waitFor(async () => tallyShare((await log.runs()).runs, total).handled === total, { message: 'every record handled', timeoutMs: 25_000, intervalMs: 100 });
    const totals = await waitFor(
      async () => {
        const now = await groupTotals(brook, group, topic);
        return now.processed === total && now.lag === 0 && now.pending === 0 ? now : undefined;
      },
      { message: 'every acknowledgement to land', timeoutMs: 10_000, intervalMs: 50 },
    );

    const { runs } = await log.runs();
    const { lost, duplicates } = tallyShare(runs, total);
    const byA = runs.filter((run) => run.member === 'a').length;
    const byB = runs.filter((run) => run.member === 'b').length;
    console.log(`share group, 2 members × 20 handlers, ${total} records: handled by a/b ${byA}/${byB}, lost ${lost}, duplicated ${duplicates.length}, runs of a record not held at start ${runs.filter((r) => !r.heldAtStart).length}`);
    expect({ lost, duplicates: duplicates.length, runs: runs.length, errors }).toEqual({ lost: 0, duplicates: 0, runs: total, errors: [] });
    expect(runs.every((run) => run.delivery === 1 && run.heldAtStart)).toBe(true);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);

    const { description } = totals;
    expect(description.kind).toBe('share');
    expect(description.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    expect(description.members.every((m) => m.acquired === 0)).toBe(true);
    for (const partition of description.partitions) {
      expect(partition).toMatchObject({ lag: 0, pending: 0, retrying: 0, deadLettered: 0, counters: { failed: 0, retried: 0, deadLettered: 0 } });
      expect(partition.counters.processed).toBeGreaterThan(0);
    }
    expect(totals.processed).toBe(total);
    expect(await brook.admin().listGroups()).toContainEqual({ group, kind: 'share', topics: [topic], members: 2 });
  });

  it('lists every live member in describeGroup and listGroups, also one with nothing to acquire', async () => {
    const brook = createBrook();
    const other = createBrook({ prefix: brook.options.prefix });
    const topic = await shareTopic(brook, 2);
    const group = uniqueName('mailers');
    const log = new ShareRunLog({ redis: rawRedis(), prefix: brook.options.prefix, topic, group, lockMs: 30_000, key: `${brook.options.prefix}:runs` });
    const a = await startShareConsumer(brook, { group, topic, member: 'a', log });
    const b = await startShareConsumer(other, { group, topic, member: 'b', log });
    // Both members poll every partition every 100 ms: 3 s is thirty polls each.
    const listed = await waitFor(
      async () => {
        const { members } = await brook.admin().describeGroup({ group, topic });
        return members.length === 2 ? members : undefined;
      },
      { message: 'both live members of an idle share group to be listed', timeoutMs: 3_000, intervalMs: 50 },
    ).catch(async () => (await brook.admin().describeGroup({ group, topic })).members);
    const count = (await brook.admin().listGroups()).find((g) => g.group === group)?.members;
    console.log(`idle share group with 2 running members: describeGroup lists ${listed.length}, listGroups counts ${count}`);
    expect(listed.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    expect(count).toBe(2);
  });

  it('stops listing a member once it stopped', async () => {
    const brook = createBrook();
    const other = createBrook({ prefix: brook.options.prefix });
    const topic = await shareTopic(brook, 2);
    const group = uniqueName('mailers');
    const log = new ShareRunLog({ redis: rawRedis(), prefix: brook.options.prefix, topic, group, lockMs: 30_000, key: `${brook.options.prefix}:runs` });
    // Slow handlers and 2 slots each, so both members acquire records.
    const handler = () => ioDelay(20);
    const a = await startShareConsumer(brook, { group, topic, member: 'a', log, concurrency: 2, handler });
    const b = await startShareConsumer(other, { group, topic, member: 'b', log, concurrency: 2, handler });
    await produce(brook, topic, 40);
    await waitFor(async () => (await groupTotals(brook, group, topic)).processed === 40, { message: 'every record acknowledged' });
    await waitFor(async () => (await brook.admin().describeGroup({ group, topic })).members.length === 2, { message: 'both members listed' });

    await a.stop();
    const { members } = await brook.admin().describeGroup({ group, topic });
    const listed = (await brook.admin().listGroups()).find((g) => g.group === group);
    console.log(`after stop(): describeGroup lists ${members.length} member(s), listGroups counts ${listed?.members}`);
    expect(members.map((m) => m.memberId)).toEqual([b.memberId]);
    expect(listed).toMatchObject({ kind: 'share', members: 1 });
  });

  it('refuses a group name used both ways with GroupKindConflictError naming the fix, from consumer.run on a share group and from shareConsumer.run on an exclusive group', async () => {
    const brook = createBrook();
    const topic = await shareTopic(brook, 1);
    const shared = uniqueName('mailers');
    const exclusive = uniqueName('billing');

    const mailers = brook.shareConsumer({ group: shared });
    await mailers.subscribe({ topic });
    await mailers.run({ eachMessage: async () => undefined });
    const billing = brook.consumer({ group: exclusive });
    await billing.subscribe({ topic });
    await billing.run({ eachMessage: async () => undefined });

    const asExclusive = brook.consumer({ group: shared });
    await asExclusive.subscribe({ topic });
    const refusedExclusive = await asExclusive.run({ eachMessage: async () => undefined }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusedExclusive).toBeInstanceOf(GroupKindConflictError);
    expect(refusedExclusive).toMatchObject({ code: 'GROUP_KIND_CONFLICT', group: shared, existingKind: 'share' });
    expect((refusedExclusive as Error).message).toMatch(new RegExp(`Group '${shared.replace('.', '\\.')}' is a share group; it cannot also run as an exclusive consumer group\\. Use another group name \\(brook\\.consumer\\), or keep using brook\\.shareConsumer`));

    const asShare = brook.shareConsumer({ group: exclusive });
    await asShare.subscribe({ topic });
    const refusedShare = await asShare.run({ eachMessage: async () => undefined }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusedShare).toBeInstanceOf(GroupKindConflictError);
    expect(refusedShare).toMatchObject({ code: 'GROUP_KIND_CONFLICT', group: exclusive, existingKind: 'exclusive' });
    expect((refusedShare as Error).message).toMatch(/is an exclusive consumer group; it cannot also run as a share group\. Use another group name \(brook\.shareConsumer\), or keep using brook\.consumer/);

    // Neither refusal changed the registry, and the refused consumers hold nothing.
    const groups = await brook.admin().listGroups();
    expect(groups.find((g) => g.group === shared)).toMatchObject({ kind: 'share', topics: [topic] });
    expect(groups.find((g) => g.group === exclusive)).toMatchObject({ kind: 'exclusive', topics: [topic] });
    expect((await brook.admin().describeGroup({ group: shared, topic })).kind).toBe('share');
    expect((await brook.admin().describeGroup({ group: exclusive, topic })).kind).toBe('exclusive');
    await asShare.stop();
    await asExclusive.stop();
  });

  it('refuses bad share options with InvalidArgumentError naming the fix', async () => {
    const brook = createBrook();
    const topic = await shareTopic(brook, 1);
    const group = uniqueName('mailers');

    expect(() => brook.shareConsumer({ group, deliveryLimit: 0 })).toThrow(InvalidArgumentError);
    expect(() => brook.shareConsumer({ group, deliveryLimit: 0 })).toThrow(/deliveryLimit must be an integer from 1 to \d+; got 0/);
    expect(() => brook.shareConsumer({ group, acquisitionLockMs: 10 })).toThrow(/acquisitionLockMs must be an integer from 100/);
    expect(() => brook.shareConsumer({ group: 'bad name' })).toThrow(/group/i);

    const attempt = async (options: Record<string, unknown>) => {
      const consumer = brook.shareConsumer({ group });
      await consumer.subscribe({ topic });
      return consumer.run({ eachMessage: async () => undefined, ...options } as never).then(
        () => undefined,
        (error: unknown) => error,
      );
    };
    const withAttempts = await attempt({ retry: { attempts: 3 } });
    expect(withAttempts).toBeInstanceOf(InvalidArgumentError);
    expect((withAttempts as Error).message).toMatch(/set deliveryLimit on brook\.shareConsumer\(\) instead of retry\.attempts/);
    expect(await attempt({ retry: { mode: 'blocking' } })).toBeInstanceOf(InvalidArgumentError);
    const zero = await attempt({ concurrency: 0 });
    expect(zero).toBeInstanceOf(InvalidArgumentError);
    expect((zero as Error).message).toMatch(/concurrency must be an integer from 1 to \d+; got 0/);
    expect(await attempt({ deadLetter: { enabled: false } })).toBeInstanceOf(InvalidArgumentError);
    // Nothing was registered by the refused runs.
    expect((await brook.admin().listGroups()).find((g) => g.group === group)).toBeUndefined();
  });
});
