import { describe, expect, it } from 'vitest';
import { NonRetriableError, type Brook, type DeadLetterEvent } from '@brook/broker';
import { startConsumer } from '../consumer/helpers.js';
import { rawRedis, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';
import { startTestHost, type TestHost } from './host.js';
import { topicWithDeadLetters } from './fixtures.js';

interface View {
  id: string;
  partition: number;
  offset: number;
  reason: string;
  error: { name: string; message: string };
  deadLetteredAt: number;
  replays: number;
  parked: boolean;
  message: { key: string | null; value: { i: number } };
}

/** How message `i` fails: a TypeError, a RangeError with a timeout text, a non-retriable decline, or not at all. */
function fail(i: number): void {
  if (i % 4 === 0) throw new TypeError(`bad amount for order ${i}`);
  if (i % 4 === 1) throw new RangeError(`Timeout talking to the bank about order ${i}`);
  if (i % 4 === 2) throw new NonRetriableError(`card declined for order ${i}`);
}

/**
 * 60 messages on 2 partitions, keys k0…k9; group 'billing' dead-letters three in four of them, in
 * two batches a moment apart (for time ranges). Returns every dead letter as the host lists it.
 */
async function deadLettersOfThreeKinds(host: TestHost) {
  const topic = uniqueName('payments');
  await host.brook.admin().createTopic({ topic, partitions: 2 });
  const events: DeadLetterEvent[] = [];
  const billing = await startConsumer(host.brook, topic, { retry: { attempts: 1 } }, ({ message }) => fail((message.value as { i: number }).i));
  billing.consumer.on('dead-letter', (event) => events.push(event));
  const batch = (from: number) => Array.from({ length: 30 }, (_, n) => ({ key: `k${(from + n) % 10}`, value: { i: from + n } }));
  await host.brook.producer().send({ topic, messages: batch(0) });
  await waitFor(() => events.length === 23, { message: 'the first batch to be dead-lettered' });
  const firstBatchEnd = Math.max(...(await listAll(host, topic, {})).map((letter) => letter.deadLetteredAt));
  await waitForRedisTime(firstBatchEnd + 5);
  await host.brook.producer().send({ topic, messages: batch(30) });
  await waitFor(() => events.length === 45, { message: 'the second batch to be dead-lettered' });
  const all = await listAll(host, topic, {});
  return { topic, all, firstBatchEnd, billing };
}

/** Every page of a search, `limit` at a time. */
async function listAll(host: TestHost, topic: string, filter: Record<string, string | number | boolean>, limit = 1_000): Promise<View[]> {
  const items: View[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ topic, group: 'billing', limit: String(limit), ...Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, String(v)])) });
    if (cursor !== null) query.set('cursor', cursor);
    const reply = await host.request('GET', `/api/v1/dead-letters?${query}`, { token: 'operator' });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    items.push(...reply.body.items);
    cursor = reply.body.nextCursor;
  } while (cursor !== null);
  return items;
}

const ids = (letters: View[]) => letters.map((letter) => letter.id);

describe('dead-letter search through the broker host', () => {
  it('filters by each field alone and combined, paging by cursor, and matches a scan of every dead letter', async () => {
    const host = await startTestHost();
    const { topic, all, firstBatchEnd } = await deadLettersOfThreeKinds(host);
    expect(all).toHaveLength(45);

    const cases: Array<[Record<string, string | number | boolean>, (letter: View) => boolean]> = [
      [{ reason: 'non-retriable' }, (l) => l.reason === 'non-retriable'],
      [{ reason: 'handler-error' }, (l) => l.reason === 'handler-error'],
      [{ errorName: 'TypeError' }, (l) => l.error.name === 'TypeError'],
      [{ errorName: 'RangeError' }, (l) => l.error.name === 'RangeError'],
      [{ errorName: 'NoSuchError' }, () => false],
      [{ errorMessage: 'TIMEOUT talking' }, (l) => l.error.message.toLowerCase().includes('timeout talking')],
      [{ key: 'k3' }, (l) => l.message.key === 'k3'],
      [{ partition: 1 }, (l) => l.partition === 1],
      [{ fromOffset: 5, toOffset: 12 }, (l) => l.offset >= 5 && l.offset <= 12],
      [{ to: firstBatchEnd }, (l) => l.deadLetteredAt <= firstBatchEnd],
      [{ from: firstBatchEnd + 1 }, (l) => l.deadLetteredAt > firstBatchEnd],
      [{ reason: 'handler-error', errorName: 'TypeError', partition: 0 }, (l) => l.reason === 'handler-error' && l.error.name === 'TypeError' && l.partition === 0],
      [{ key: 'k4', errorMessage: 'amount', from: firstBatchEnd + 1 }, (l) => l.message.key === 'k4' && l.error.message.includes('amount') && l.deadLetteredAt > firstBatchEnd],
      [{ errorName: 'RangeError', fromOffset: 3, toOffset: 20, partition: 0 }, (l) => l.error.name === 'RangeError' && l.offset >= 3 && l.offset <= 20 && l.partition === 0],
      [{ parked: false }, () => true],
      [{ parked: true }, () => false],
    ];
    for (const [filter, predicate] of cases) {
      const expected = all.filter(predicate);
      const found = await listAll(host, topic, filter, 4);
      expect(ids(found), JSON.stringify(filter)).toEqual(ids(expected));
    }
    // Each filter narrowed something: none of the non-empty cases above selected everything.
    expect(all.filter((l) => l.message.key === 'k3').length).toBeGreaterThan(0);
    expect(all.filter((l) => l.deadLetteredAt <= firstBatchEnd)).toHaveLength(23);
  });

  it('regression: a search over many nearly empty partitions charged each a whole step of its budget and ended with a cursor, so replaying all of 3 dead letters started a job', async () => {
    const host = await startTestHost();
    const { topic } = await topicWithDeadLetters(host.brook, { partitions: 8, failing: 3, passing: 0 });
    const page = await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing&limit=500`, { token: 'operator' });
    expect(page.body.items).toHaveLength(3);
    expect(page.body.nextCursor).toBeNull();
    const replay = await host.request('POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', all: true } });
    expect(replay.body).toMatchObject({ replayed: 3, job: null });
  });

  it('deleting the topic removes the dead-letter index with the dead letters', async () => {
    const host = await startTestHost();
    const { topic, billing } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 3, passing: 0 });
    await billing.consumer.stop();
    expect((await host.request('DELETE', `/api/v1/topics/${topic}`, { token: 'admin' })).status).toBe(204);
    const redis = rawRedis();
    expect(await redis.keys(`${host.prefix}:{${topic}:*`)).toEqual([]);
    await redis.quit();
  });

  it('refuses bad filters with a message naming the fix', async () => {
    const host = await startTestHost();
    const topic = uniqueName('payments');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    await startConsumer(host.brook, topic);
    const reply = await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing&fromOffset=9&toOffset=3`, { token: 'operator' });
    expect(reply.status).toBe(400);
    expect(reply.body.message).toContain('fromOffset 9 is above toOffset 3');
    const reason = await host.request('GET', `/api/v1/dead-letters?topic=${topic}&group=billing&reason=oops`, { token: 'operator' });
    expect(reason.status).toBe(400);
  });

  it('answers a dry run with the count and a sample, changing nothing', async () => {
    const host = await startTestHost();
    const { topic, all } = await deadLettersOfThreeKinds(host);
    const auditBefore = (await host.request('GET', '/api/v1/dead-letters/audit', { token: 'viewer' })).body.items;
    const reply = await host.request('POST', '/api/v1/dead-letters/replay', {
      token: 'operator',
      body: { topic, group: 'billing', filter: { errorName: 'TypeError' }, dryRun: true },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const typeErrors = all.filter((l) => l.error.name === 'TypeError');
    expect(reply.body).toMatchObject({ dryRun: true, matched: typeErrors.length, complete: true });
    expect(ids(reply.body.sample)).toEqual(ids(typeErrors).slice(0, 10));
    const everything = await host.request('POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', all: true, dryRun: true } });
    expect(everything.body).toMatchObject({ matched: 45, complete: true });

    expect(ids(await listAll(host, topic, {}))).toEqual(ids(all));
    expect((await host.request('GET', '/api/v1/dead-letters/audit', { token: 'viewer' })).body.items).toEqual(auditBefore);
    const group = (await host.request('GET', `/api/v1/groups/billing/topics/${topic}`, { token: 'viewer' })).body;
    expect(group.partitions.reduce((sum: number, p: { retrying: number }) => sum + p.retrying, 0)).toBe(0);
  });

  it('replays by filter only what matches, and audits the filter with the actor', async () => {
    const host = await startTestHost();
    const { topic, all } = await deadLettersOfThreeKinds(host);
    const reply = await host.request('POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', filter: { reason: 'non-retriable', partition: 0 } } });
    const selected = all.filter((l) => l.reason === 'non-retriable' && l.partition === 0);
    expect(reply.body).toEqual({ replayed: selected.length, parked: [], missing: [], job: null });
    // They fail again (the handler still declines them), so they come back as new dead letters.
    await waitFor(async () => (await listAll(host, topic, {})).length === 45 && (await listAll(host, topic, { parked: false })).some((l) => l.replays === 1), {
      message: 'the replayed messages to be dead-lettered again',
    });
    const again = await listAll(host, topic, { reason: 'non-retriable', partition: 0 });
    expect(again.map((l) => l.offset).sort()).toEqual(selected.map((l) => l.offset).sort());
    expect(again.every((l) => l.replays === 1 && !l.parked)).toBe(true);
    const [entry] = (await host.request('GET', '/api/v1/dead-letters/audit', { token: 'viewer' })).body.items;
    expect(entry).toMatchObject({ actor: 'oncall', action: 'replay', selection: { reason: 'non-retriable', partition: 0 }, result: { count: selected.length } });
  });

  it('parks a message that fails again after maxReplays (3) replays, and replays it only with force', async () => {
    const host = await startTestHost();
    const { topic, all } = await deadLettersOfThreeKinds(host);
    const target = all.find((l) => l.reason === 'non-retriable')!;
    const byOffset = () => listAll(host, topic, { partition: target.partition, fromOffset: target.offset, toOffset: target.offset });
    const replay = (extra: Record<string, unknown> = {}) =>
      host.request('POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', filter: { partition: target.partition, fromOffset: target.offset, toOffset: target.offset }, ...extra } });

    for (let round = 1; round <= 3; round++) {
      expect((await replay()).body).toMatchObject({ replayed: 1, parked: [] });
      await waitFor(async () => (await byOffset())[0]?.replays === round, { message: `the message to fail again after replay ${round}` });
    }
    const [parked] = await byOffset();
    expect(parked).toMatchObject({ replays: 3, parked: true });
    expect(ids(await listAll(host, topic, { parked: true }))).toEqual([parked.id]);

    const refused = await replay();
    expect(refused.body).toEqual({ replayed: 0, parked: [parked.id], missing: [], job: null });
    expect(ids(await byOffset())).toEqual([parked.id]);
    const [audited] = (await host.request('GET', '/api/v1/dead-letters/audit', { token: 'viewer' })).body.items;
    expect(audited).toMatchObject({ actor: 'oncall', action: 'replay', result: { count: 0, parked: [parked.id] } });

    expect((await replay({ force: true })).body).toMatchObject({ replayed: 1, parked: [] });
    await waitFor(async () => (await byOffset())[0]?.replays === 4, { message: 'the forced replay to fail again' });
  });
});

export type { Brook };
