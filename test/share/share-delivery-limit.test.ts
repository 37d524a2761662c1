import { describe, expect, it } from 'vitest';
import { NonRetriableError, type DeadLetterEvent, type RetryEvent, type ShareConsumer, type ShareMessagePayload } from '@brook/broker';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { groupTotals, startShareConsumer } from '../support/share-group.js';
import { ShareRunLog } from '../support/share-runs.js';

const BACKOFF_MS = 300;

describe('share group delivery limit', () => {
  it('releases a failing record with backoff (deliveryCount 1, 2, 3) and dead-letters it at deliveryLimit 3; a NonRetriableError and an undecodable payload are dead-lettered at once', async () => {
    const brook = createBrook();
    const other = createBrook({ prefix: brook.options.prefix });
    const topic = uniqueName('orders.shipped');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const group = uniqueName('mailers');
    const log = new ShareRunLog({ redis: rawRedis(), prefix: brook.options.prefix, topic, group, lockMs: 5_000, key: `${brook.options.prefix}:runs` });

    // Offsets: 0 undecodable JSON, 1 always fails, 2 fails non-retriably, 3..5 succeed.
    await rawRedis().xadd(new KeySpace(brook.options.prefix).log(topic, 0), '0-*', 't', String(Date.now()), 'e', 'json', 'v', '{not json');
    await brook.producer().send({
      topic,
      messages: [{ key: 'flaky', value: { kind: 'fail' } }, { key: 'bad', value: { kind: 'fatal' } }, ...[0, 1, 2].map((n) => ({ key: `ok-${n}`, value: { kind: 'ok', n } }))],
    });

    const deliveries: Array<{ offset: number; deliveryCount: number; attempt: number; at: number }> = [];
    const failedAt = new Map<string, number>();
    async function mail({ message, deliveryCount, attempt }: ShareMessagePayload) {
      deliveries.push({ offset: message.offset, deliveryCount, attempt, at: performance.now() });
      const { kind } = message.value as { kind: string };
      if (kind === 'fail') {
        failedAt.set(`${message.offset}/${deliveryCount}`, performance.now());
        throw new Error(`mail server down (delivery ${deliveryCount})`);
      }
      if (kind === 'fatal') throw new NonRetriableError('address does not exist');
    }
    const retries: RetryEvent[] = [];
    const deadLetters: DeadLetterEvent[] = [];
    const prepare = (consumer: ShareConsumer) => {
      consumer.on('retry', (event) => retries.push(event));
      consumer.on('dead-letter', (event) => deadLetters.push(event));
    };
    const settings = { group, topic, log, prepare, handlerName: 'Mailer.mail', deliveryLimit: 3, acquisitionLockMs: 5_000, concurrency: 4, retry: { backoff: { type: 'fixed' as const, initialMs: BACKOFF_MS, jitter: 0 } } };
    await startShareConsumer(brook, { ...settings, member: 'a', handler: mail });
    await startShareConsumer(other, { ...settings, member: 'b', handler: mail });

    await waitFor(() => deadLetters.length === 3, { message: 'three dead letters', timeoutMs: 15_000 });
    const totals = await waitFor(
      async () => {
        const now = await groupTotals(brook, group, topic);
        return now.lag === 0 && now.pending === 0 && now.processed === 3 ? now : undefined;
      },
      { message: 'the partition to be settled', timeoutMs: 10_000 },
    );

    // The failing record: three deliveries, counted 1, 2, 3 (attempt follows), each after the backoff.
    const flaky = deliveries.filter((d) => d.offset === 1);
    expect(flaky.map((d) => [d.deliveryCount, d.attempt])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const gaps = [1, 2].map((n) => flaky[n].at - failedAt.get(`1/${n}`)!);
    console.log(`delivery limit: redelivery after ${gaps.map((g) => Math.round(g)).join(' / ')} ms with a ${BACKOFF_MS} ms backoff`);
    // Idle times are whole milliseconds: allow one.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(BACKOFF_MS - 1);
    expect(retries.filter((r) => r.offset === 1).map((r) => [r.attempt, r.delayMs, (r.error as Error).message])).toEqual([
      [2, BACKOFF_MS, 'mail server down (delivery 1)'],
      [3, BACKOFF_MS, 'mail server down (delivery 2)'],
    ]);
    // The others: the non-retriable one ran once, the undecodable one never reached a handler.
    expect(deliveries.filter((d) => d.offset === 2).map((d) => d.deliveryCount)).toEqual([1]);
    expect(deliveries.some((d) => d.offset === 0)).toBe(false);
    expect(deliveries.filter((d) => d.offset >= 3).map((d) => d.deliveryCount)).toEqual([1, 1, 1]);
    expect(retries.every((r) => r.offset === 1)).toBe(true);

    expect(deadLetters.map((d) => [d.offset, d.reason, d.attempts]).sort()).toEqual([
      [0, 'undecodable', 0],
      [1, 'handler-error', 3],
      [2, 'non-retriable', 1],
    ]);
    const { items } = await brook.admin().deadLetters.list({ topic, group });
    const byOffset = new Map(items.map((item) => [item.offset, item]));
    expect(items).toHaveLength(3);
    expect(byOffset.get(1)).toMatchObject({
      group,
      handler: 'Mailer.mail',
      attempts: 3,
      reason: 'handler-error',
      error: { name: 'Error', message: 'mail server down (delivery 3)' },
      message: { key: 'flaky', value: { kind: 'fail' } },
    });
    // firstFailureAt is the first failed delivery, lastFailureAt the third.
    expect(byOffset.get(1)!.lastFailureAt - byOffset.get(1)!.firstFailureAt).toBeGreaterThanOrEqual(2 * BACKOFF_MS - 2);
    expect(byOffset.get(2)).toMatchObject({ attempts: 1, reason: 'non-retriable', error: { name: 'NonRetriableError', message: 'address does not exist' } });
    expect(byOffset.get(0)).toMatchObject({ attempts: 0, reason: 'undecodable', error: { name: 'SyntaxError' }, message: { value: Buffer.from('{not json') } });
    for (const dead of deadLetters) expect(await brook.admin().deadLetters.get({ topic, group, id: dead.deadLetterId })).toMatchObject({ offset: dead.offset, reason: dead.reason });

    // Counters: two releases of the failing record, its last failure, the non-retriable one.
    expect({ failed: totals.failed, retried: totals.retried, deadLettered: totals.deadLettered, processed: totals.processed }).toEqual({ failed: 4, retried: 2, deadLettered: 3, processed: 3 });
    expect(totals.description.partitions[0]).toMatchObject({ deadLettered: 3, retrying: 0, lag: 0, pending: 0 });
  });
});
