import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnknownGroupError, type Brook, type DeadLetterEvent } from '@brook/broker';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
import { startConsumer } from './helpers.js';

const once = { retry: { attempts: 1 } };

/** A topic where group 'billing' dead-letters every message with { fail: true } while `failing` is set. */
async function failingGroup(brook: Brook, partitions = 1) {
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions });
  const state = { failing: true };
  const billing = await startConsumer(brook, topic, once, ({ message }) => {
    if (state.failing && (message.value as { fail?: boolean }).fail) throw new Error(`cannot bill ${(message.value as { id: number }).id}`);
  });
  const deadLetters: DeadLetterEvent[] = [];
  billing.consumer.on('dead-letter', (event) => deadLetters.push(event));
  return { topic, state, billing, deadLetters };
}

describe('dead-letter operations', () => {
  it('replays to the failed group only, even when another group reads the same topic', async () => {
    const brook = createBrook();
    const { topic, state, billing, deadLetters } = await failingGroup(brook);
    const shipping = await startConsumer(brook, topic, { group: 'shipping' });
    await brook.producer().send({ topic, messages: [{ key: 'a', value: { id: 1 } }, { key: 'b', value: { id: 2, fail: true } }, { key: 'c', value: { id: 3 } }] });
    await waitFor(() => deadLetters.length === 1 && shipping.seen.length === 3 && billing.seen.length === 2);

    state.failing = false;
    const result = await brook.admin().deadLetters.replay({ topic, group: 'billing', ids: [deadLetters[0].deadLetterId], actor: 'ops@example.com' });
    expect(result).toEqual({ replayed: 1, parked: [], missing: [], job: null });
    await waitFor(() => billing.seen.length === 3, { message: 'billing to process the replayed message' });
    expect(billing.seen.at(-1)).toMatchObject({ offset: 1, attempt: 1, value: { id: 2, fail: true } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(shipping.seen).toHaveLength(3);
    expect((await brook.admin().deadLetters.count({ topic, group: 'billing' })).total).toBe(0);
    const [partition] = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions;
    expect(partition).toMatchObject({ retrying: 0, lag: 0, deadLettered: 0 });
  });

  it('re-publishes to the topic for every group with to: topic, keeping key, value and headers', async () => {
    const brook = createBrook();
    const { topic, state, billing, deadLetters } = await failingGroup(brook, 3);
    const shipping = await startConsumer(brook, topic, { group: 'shipping' });
    await brook.producer().send({ topic, messages: [{ key: 'customer-7', value: { id: 9, fail: true }, headers: { trace: 'x' } }] });
    await waitFor(() => deadLetters.length === 1 && shipping.seen.length === 1);
    const original = shipping.seen[0];

    state.failing = false;
    expect(await brook.admin().deadLetters.replay({ topic, group: 'billing', all: true, to: 'topic' })).toEqual({ replayed: 1, parked: [], missing: [], job: null });
    await waitFor(() => billing.seen.length === 1 && shipping.seen.length === 2, { message: 'both groups to receive the re-published message' });
    expect(shipping.seen[1]).toMatchObject({ partition: original.partition, offset: original.offset + 1, key: 'customer-7', value: { id: 9, fail: true } });
    expect(billing.seen[0]).toMatchObject({ partition: original.partition, offset: original.offset + 1 });
  });

  it('pages through dead letters with a cursor and filters by partition and reason', async () => {
    const brook = createBrook();
    const { topic, deadLetters } = await failingGroup(brook, 3);
    await brook.producer().send({ topic, messages: Array.from({ length: 25 }, (_, i) => ({ key: `k${i}`, value: { id: i, fail: true } })) });
    await waitFor(() => deadLetters.length === 25);
    const dlt = brook.admin().deadLetters;

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await dlt.list({ topic, group: 'billing', limit: 10, cursor });
      pages.push(page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
    expect(new Set(pages.flat())).toEqual(new Set(deadLetters.map((e) => e.deadLetterId)));

    const onPartition1 = await dlt.list({ topic, group: 'billing', partition: 1, limit: 1_000 });
    expect(onPartition1.items.length).toBe(deadLetters.filter((e) => e.partition === 1).length);
    expect(onPartition1.items.every((item) => item.partition === 1)).toBe(true);
    expect((await dlt.list({ topic, group: 'billing', reason: 'timeout' })).items).toEqual([]);
    expect((await dlt.list({ topic, group: 'billing', reason: 'handler-error', limit: 1_000 })).items).toHaveLength(25);

    const one = await dlt.get({ topic, group: 'billing', id: pages[0][0] });
    expect(one?.id).toBe(pages[0][0]);
    expect(await dlt.get({ topic, group: 'billing', id: '0-1-0' })).toBeNull();
    expect(await dlt.count({ topic })).toEqual({ total: 25, byTopicAndGroup: [{ topic, group: 'billing', count: 25 }] });
  });

  it('purges selected or all dead letters and records every replay and purge in the audit log', async () => {
    const brook = createBrook();
    const { topic, deadLetters } = await failingGroup(brook, 2);
    await brook.producer().send({ topic, messages: Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, value: { id: i, fail: true } })) });
    await waitFor(() => deadLetters.length === 8);
    const dlt = brook.admin().deadLetters;
    const ids = deadLetters.map((e) => e.deadLetterId);

    expect(await dlt.purge({ topic, group: 'billing', ids: [ids[0], ids[1], '0-1-0'], actor: 'alice' })).toEqual({ purged: 2, missing: ['0-1-0'] });
    expect((await dlt.count({ topic })).total).toBe(6);
    expect(await dlt.replay({ topic, group: 'billing', ids: [ids[2]], actor: 'bob' })).toEqual({ replayed: 1, parked: [], missing: [], job: null });
    await waitFor(async () => (await dlt.count({ topic })).total === 6, { message: 'the replayed message to fail again' });
    expect(await dlt.purge({ topic, group: 'billing', all: true, actor: 'carol' })).toEqual({ purged: 6, missing: [] });
    expect((await dlt.count({ topic })).total).toBe(0);

    const { items } = await dlt.audit({ limit: 10 });
    expect(items.map(({ actor, action, to, selection, result }) => ({ actor, action, to, selection, result }))).toEqual([
      { actor: 'carol', action: 'purge', to: null, selection: 'all', result: { count: 6, missing: [] } },
      { actor: 'bob', action: 'replay', to: 'group', selection: [ids[2]], result: { count: 1, missing: [], parked: [] } },
      { actor: 'alice', action: 'purge', to: null, selection: [ids[0], ids[1], '0-1-0'], result: { count: 2, missing: ['0-1-0'] } },
    ]);
    expect(items.every((item) => item.topic === topic && item.group === 'billing' && item.at > 0)).toBe(true);
    const older = await dlt.audit({ limit: 1, cursor: items[0].id });
    expect(older.items[0].actor).toBe('bob');
  });

  it('refuses bad selections, ids, cursors and page sizes', async () => {
    const brook = createBrook();
    const { topic } = await failingGroup(brook, 2);
    const dlt = brook.admin().deadLetters;
    await expect(dlt.list({ topic, group: 'billing', limit: 1_001 })).rejects.toThrow(/limit must be an integer from 1 to 1000/);
    await expect(dlt.list({ topic, group: 'billing', cursor: 'garbage' })).rejects.toThrow(/Invalid cursor/);
    await expect(dlt.list({ topic, group: 'billing', partition: 2 })).rejects.toThrow(/partition must be an integer from 0 to 1/);
    await expect(dlt.list({ topic, group: 'billing', reason: 'boredom' as never })).rejects.toThrow(/Invalid reason/);
    await expect(dlt.list({ topic, group: 'nobody' })).rejects.toBeInstanceOf(UnknownGroupError);
    await expect(dlt.get({ topic, group: 'billing', id: '../../etc' })).rejects.toThrow(/Invalid dead-letter id/);
    await expect(dlt.replay({ topic, group: 'billing' })).rejects.toThrow(/Pass ids .* or all: true/);
    await expect(dlt.replay({ topic, group: 'billing', ids: ['5-1-0'] })).rejects.toThrow(/names partition 5/);
    await expect(dlt.replay({ topic, group: 'billing', all: true, to: 'everyone' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(dlt.purge({ topic, group: 'billing', ids: Array.from({ length: 1_001 }, () => '0-1-0') })).rejects.toThrow(/1 to 1,000/);
  });
});
