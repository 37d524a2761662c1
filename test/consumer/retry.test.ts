import { describe, expect, it } from 'vitest';
import { NonRetriableError, type DeadLetterEvent, type RetryEvent } from '@brook/broker';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { FAST, startConsumer, topicWithMessages } from './helpers.js';

const quickBackoff = { type: 'fixed', initialMs: 20, jitter: 0 } as const;

describe('retries and dead letters', () => {
  it('dead-letters a poison message after exactly `attempts` tries with backoff gaps, then moves on', async () => {
    const brook = createBrook();
    const topic = uniqueName('payments');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await brook.producer().send({
      topic,
      messages: [
        { key: 'c-1', value: { n: 0 } },
        { key: 'c-2', value: { n: 1, poison: true }, headers: { source: 'api', trace: 't-1' }, timestamp: 1_764_000_000_000 },
        { key: 'c-3', value: { n: 2 } },
      ],
    });
    const tries: number[] = [];
    const events: DeadLetterEvent[] = [];
    const { consumer, seen } = await startConsumer(
      brook,
      topic,
      { retry: { attempts: 3, backoff: { type: 'exponential', initialMs: 100, multiplier: 2, maxMs: 1_000, jitter: 0.2 } } },
      ({ message }) => {
        if ((message.value as { poison?: boolean }).poison) {
          tries.push(Date.now());
          throw new TypeError('card processor rejected the payload');
        }
      },
    );
    consumer.on('dead-letter', (event) => events.push(event));
    await waitFor(() => seen.length === 2 && events.length === 1, { message: 'the poison message to be dead-lettered and the next one handled' });

    expect(tries).toHaveLength(3);
    const gaps = [tries[1] - tries[0], tries[2] - tries[1]];
    expect(gaps[0]).toBeGreaterThanOrEqual(80 - 5);
    expect(gaps[0]).toBeLessThanOrEqual(120 + 100);
    expect(gaps[1]).toBeGreaterThanOrEqual(160 - 5);
    expect(gaps[1]).toBeLessThanOrEqual(240 + 100);
    expect(seen.map((s) => s.offset)).toEqual([0, 2]);
    expect(events[0]).toMatchObject({ offset: 1, reason: 'handler-error', attempts: 3 });

    const { items } = await brook.admin().deadLetters.list({ topic, group: 'billing' });
    expect(items).toHaveLength(1);
    const [letter] = items;
    expect(letter).toMatchObject({
      id: events[0].deadLetterId,
      topic,
      group: 'billing',
      partition: 0,
      offset: 1,
      attempts: 3,
      reason: 'handler-error',
      handler: 'eachMessage',
      error: { name: 'TypeError', message: 'card processor rejected the payload' },
      message: { key: 'c-2', value: { n: 1, poison: true }, headers: { source: 'api', trace: 't-1' }, timestamp: 1_764_000_000_000, encoding: 'json' },
    });
    expect(letter.error.stack).toContain('TypeError: card processor rejected the payload');
    expect(letter.firstFailureAt).toBeLessThanOrEqual(letter.lastFailureAt);
    expect(letter.lastFailureAt - letter.firstFailureAt).toBeGreaterThanOrEqual(200);
    const [partition] = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions;
    expect(partition).toMatchObject({ lag: 0, pending: 0, deadLettered: 1, counters: { processed: 2, failed: 3, retried: 2, deadLettered: 1 } });
  });

  it('lets a transient failure succeed on retry without a dead letter', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 3 });
    const { seen } = await startConsumer(brook, topic, { retry: { attempts: 3, backoff: quickBackoff } }, ({ message, attempt }) => {
      if (message.offset === 1 && attempt < 3) throw new Error('gateway timeout');
    });
    await waitFor(() => seen.length === 3);
    expect(seen.map((s) => [s.offset, s.attempt])).toEqual([
      [0, 1],
      [1, 3],
      [2, 1],
    ]);
    expect((await brook.admin().deadLetters.count({ topic })).total).toBe(0);
  });

  it('dead-letters after one try on NonRetriableError or when isRetriable says no', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 3 });
    let calls = 0;
    const { seen, consumer } = await startConsumer(
      brook,
      topic,
      { retry: { attempts: 5, backoff: quickBackoff, isRetriable: (error) => !(error instanceof RangeError) } },
      ({ message }) => {
        if (message.offset === 0) {
          calls++;
          throw new NonRetriableError('card declined', { cause: new Error('issuer said no') });
        }
        if (message.offset === 1) {
          calls++;
          throw new RangeError('amount out of range');
        }
      },
    );
    const reasons: string[] = [];
    consumer.on('dead-letter', ({ reason }) => reasons.push(reason));
    await waitFor(() => seen.length === 1 && reasons.length === 2);
    expect(calls).toBe(2);
    expect(reasons).toEqual(['non-retriable', 'non-retriable']);
    const { items } = await brook.admin().deadLetters.list({ topic, group: 'billing' });
    expect(items.map((item) => [item.offset, item.attempts, item.error.name])).toEqual([
      [0, 1, 'NonRetriableError'],
      [1, 1, 'RangeError'],
    ]);
  });

  it('keeps the rest of the partition flowing in non-blocking mode while one message waits for its retry', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 10 });
    const retries: RetryEvent[] = [];
    const { seen, consumer } = await startConsumer(
      brook,
      topic,
      { retry: { attempts: 3, mode: 'non-blocking', backoff: { type: 'fixed', initialMs: 300, jitter: 0 } } },
      ({ message, attempt }) => {
        if (message.offset === 2 && attempt < 3) throw new Error('flaky gateway');
      },
    );
    consumer.on('retry', (event) => retries.push(event));
    await waitFor(() => seen.length === 9, { message: 'every other message while offset 2 waits' });
    expect(seen.map((s) => s.offset)).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9]);
    const waiting = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions[0];
    expect(waiting).toMatchObject({ retrying: 1, pending: 0, lag: 1 });

    await waitFor(() => seen.length === 10, { message: 'the retried message to succeed' });
    expect(seen.at(-1)).toMatchObject({ offset: 2, attempt: 3 });
    expect(retries.map((r) => [r.offset, r.attempt, r.mode])).toEqual([
      [2, 2, 'non-blocking'],
      [2, 3, 'non-blocking'],
    ]);
    await waitFor(async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions[0].retrying === 0);
    expect((await brook.admin().deadLetters.count({ topic })).total).toBe(0);
  });

  it('dead-letters a message whose non-blocking retries run out', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 3 });
    const { seen, consumer } = await startConsumer(brook, topic, { retry: { attempts: 2, mode: 'non-blocking', backoff: quickBackoff } }, ({ message }) => {
      if (message.offset === 0) throw new Error('always broken');
    });
    const events: DeadLetterEvent[] = [];
    consumer.on('dead-letter', (event) => events.push(event));
    await waitFor(() => events.length === 1 && seen.length === 2);
    expect(events[0]).toMatchObject({ offset: 0, attempts: 2, reason: 'handler-error' });
    const [partition] = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions;
    expect(partition).toMatchObject({ retrying: 0, deadLettered: 1, lag: 0 });
  });

  it('dead-letters undecodable payloads at once and keeps going', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1 });
    await rawRedis().xadd(`${brook.options.prefix}:{${topic}:0}:log`, '0-*', 't', '1', 'e', 'json', 'v', '{not json');
    await rawRedis().xadd(`${brook.options.prefix}:{${topic}:0}:log`, '0-*', 't', '1', 'e', 'avro', 'v', 'binary');
    await brook.producer().send({ topic, messages: [{ value: { ok: true } }] });
    let handlerCalls = 0;
    const { seen, consumer } = await startConsumer(brook, topic, {}, () => void handlerCalls++);
    const events: DeadLetterEvent[] = [];
    consumer.on('dead-letter', (event) => events.push(event));
    await waitFor(() => seen.length === 1 && events.length === 2);
    expect(handlerCalls).toBe(1);
    expect(events.map((e) => [e.offset, e.reason, e.attempts])).toEqual([
      [0, 'undecodable', 0],
      [1, 'undecodable', 0],
    ]);
    const { items } = await brook.admin().deadLetters.list({ topic, group: 'billing', reason: 'undecodable' });
    expect(items[0].error.name).toBe('SyntaxError');
    expect(items[1].error.message).toMatch(/codec 'avro'.*configure the matching codec/);
    expect(items[0].message.value).toEqual(Buffer.from('{not json'));
  });

  it('fails a handler past handlerTimeoutMs with reason timeout and aborts its signal', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 2 });
    const abortReasons: unknown[] = [];
    const { seen, consumer } = await startConsumer(brook, topic, { retry: { attempts: 2, handlerTimeoutMs: 100, backoff: quickBackoff } }, async ({ message, signal }) => {
      if (message.offset === 0) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        abortReasons.push(signal.reason);
      }
    });
    const events: DeadLetterEvent[] = [];
    consumer.on('dead-letter', (event) => events.push(event));
    await waitFor(() => events.length === 1 && seen.some((s) => s.offset === 1));
    expect(events[0]).toMatchObject({ offset: 0, reason: 'timeout', attempts: 2 });
    expect(abortReasons).toHaveLength(2);
    expect(abortReasons[0]).toMatchObject({ name: 'HandlerTimeoutError', code: 'HANDLER_TIMEOUT' });
  });

  it('retries forever at the longest backoff when dead-lettering is off', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 2 });
    let tries = 0;
    const { seen } = await startConsumer(brook, topic, { retry: { attempts: 2, backoff: quickBackoff }, deadLetter: { enabled: false } }, ({ message }) => {
      if (message.offset === 0 && ++tries < 6) throw new Error('still down');
    });
    await waitFor(() => seen.length === 2);
    expect(tries).toBe(6);
    expect((await brook.admin().deadLetters.count({ topic })).total).toBe(0);
  });

  it('continues the attempt count when another member takes the message over', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 1 });
    const attempts: Array<[string, number]> = [];
    const failing = ({ attempt }: { attempt: number }) => {
      throw new Error(`attempt ${attempt} failed`);
    };
    const first = await startConsumer(brook, topic, { retry: { attempts: 5, backoff: { type: 'fixed', initialMs: 50, jitter: 0 } } }, (payload, consumer) => {
      attempts.push([consumer.memberId, payload.attempt]);
      failing(payload);
    });
    await waitFor(() => attempts.length === 2);
    await first.consumer.stop();
    const second = await startConsumer(brook, topic, { retry: { attempts: 5, backoff: { type: 'fixed', initialMs: 50, jitter: 0 } } }, (payload, consumer) => {
      attempts.push([consumer.memberId, payload.attempt]);
      failing(payload);
    });
    const events: DeadLetterEvent[] = [];
    second.consumer.on('dead-letter', (event) => events.push(event));
    await waitFor(() => events.length === 1);
    const counts = attempts.map(([, attempt]) => attempt);
    // The first member may have started a third attempt before it stopped; the count never restarts.
    expect(counts.slice(0, 2)).toEqual([1, 2]);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(5);
    expect(events[0].attempts).toBe(5);
    expect(attempts.some(([member]) => member === second.consumer.memberId)).toBe(true);
  });

  it('applies a subscription’s own retry policy and handler name over the run defaults', async () => {
    const brook = createBrook();
    const strict = uniqueName('strict');
    const lenient = uniqueName('lenient');
    await brook.admin().createTopic({ topic: strict, partitions: 1 });
    await brook.admin().createTopic({ topic: lenient, partitions: 1 });
    const consumer = brook.consumer({ group: 'billing', ...FAST });
    await consumer.subscribe({ topic: strict, fromBeginning: true, retry: { attempts: 1 }, handlerName: 'Strict.handle' });
    await consumer.subscribe({ topic: lenient, fromBeginning: true });
    const events: DeadLetterEvent[] = [];
    consumer.on('dead-letter', (event) => events.push(event));
    await consumer.run({
      retry: { attempts: 3, backoff: quickBackoff },
      handlerName: 'Default.handle',
      eachMessage: async () => {
        throw new Error('always');
      },
    });
    await brook.producer().send({ topic: strict, messages: [{ value: 1 }] });
    await brook.producer().send({ topic: lenient, messages: [{ value: 2 }] });
    await waitFor(() => events.length === 2);
    const strictLetter = (await brook.admin().deadLetters.list({ topic: strict, group: 'billing' })).items[0];
    const lenientLetter = (await brook.admin().deadLetters.list({ topic: lenient, group: 'billing' })).items[0];
    expect([strictLetter.attempts, strictLetter.handler]).toEqual([1, 'Strict.handle']);
    expect([lenientLetter.attempts, lenientLetter.handler]).toEqual([3, 'Default.handle']);
    await expect(brook.consumer({ group: 'x', ...FAST }).subscribe({ topic: strict, retry: { attempts: -1 } })).rejects.toThrow(/retry.attempts/);
  });

  it('rejects invalid retry options with a clear message', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1 });
    const consumer = brook.consumer({ group: 'g', ...FAST });
    await consumer.subscribe({ topic });
    await expect(consumer.run({ eachMessage: async () => undefined, retry: { attempts: 0 } })).rejects.toThrow(/retry.attempts must be an integer from 1/);
    await expect(brook.consumer({ group: 'g2', ...FAST }).run({ eachMessage: async () => undefined })).rejects.toThrow(/Subscribe/);
    const other = brook.consumer({ group: 'g3', ...FAST });
    await other.subscribe({ topic });
    await expect(other.run({ eachMessage: async () => undefined, retry: { mode: 'sometimes' as never } })).rejects.toThrow(/retry.mode must be 'blocking' or 'non-blocking'/);
  });
});
