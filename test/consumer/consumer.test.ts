import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidNameError, UnknownTopicError } from '@brook/broker';
import { createBrook, rawRedis, uniqueName, waitFor, waitForRedisTime } from '../support/brook.js';
import { byPartition, FAST, startConsumer, topicWithMessages } from './helpers.js';

describe('consumer', () => {
  it('delivers every message once, one at a time in offset order per partition', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 3, count: 300 });
    const { seen } = await startConsumer(brook, topic);
    await waitFor(() => seen.length >= 300, { message: '300 messages' });
    expect(seen).toHaveLength(300);
    for (const offsets of byPartition(seen).values()) expect(offsets).toEqual(offsets.map((_, i) => i));
    const perKey = new Map<string, number[]>();
    for (const { key, value } of seen) perKey.set(key!, [...(perKey.get(key!) ?? []), (value as { seq: number }).seq]);
    for (const seqs of perKey.values()) expect(seqs).toEqual(seqs.map((_, i) => i));
  });

  it('starts a new group at the log end unless fromBeginning, and resumes an existing group where it stopped', async () => {
    const brook = createBrook();
    const { topic, more } = await topicWithMessages(brook, { partitions: 2, count: 20 });

    const latest = await startConsumer(brook, topic, { group: 'latest', fromBeginning: false });
    await more(5);
    await waitFor(() => latest.seen.length === 5, { message: 'only the 5 new messages' });

    const first = await startConsumer(brook, topic, { group: 'resumer' });
    await waitFor(() => first.seen.length === 25);
    await first.consumer.stop();
    await more(7);
    const second = await startConsumer(brook, topic, { group: 'resumer' });
    await waitFor(() => second.seen.length === 7, { message: 'the 7 messages produced while stopped' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(second.seen).toHaveLength(7);
    expect(latest.seen.length).toBe(12);
  });

  it('runs partitions in parallel up to partitionsConsumedConcurrently, never two messages of one partition at once', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 4, count: 80 });
    let running = 0;
    let maxRunning = 0;
    const runningPerPartition = new Map<number, number>();
    const { seen } = await startConsumer(brook, topic, { concurrency: 2 }, async ({ partition }) => {
      running++;
      runningPerPartition.set(partition, (runningPerPartition.get(partition) ?? 0) + 1);
      maxRunning = Math.max(maxRunning, running);
      expect(runningPerPartition.get(partition)).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      runningPerPartition.set(partition, runningPerPartition.get(partition)! - 1);
      running--;
    });
    await waitFor(() => seen.length === 80);
    expect(maxRunning).toBe(2);
  });

  it('retries a failing message after the backoff, holding its partition, without losing it or spinning', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 5 });
    const attempts: number[] = [];
    const retryEvents: number[] = [];
    const { seen, consumer } = await startConsumer(brook, topic, { backoffMs: 100, retry: { attempts: 5 } }, async ({ message, attempt }) => {
      if (message.offset === 2) {
        attempts.push(Date.now());
        if (attempt < 4) throw new Error(`transient failure ${attempt}`);
      }
    });
    consumer.on('retry', ({ attempt }) => retryEvents.push(attempt));
    await waitFor(() => seen.length === 5, { message: 'all 5 messages' });
    expect(seen.map((s) => s.offset)).toEqual([0, 1, 2, 3, 4]);
    expect(seen[2].attempt).toBe(4);
    expect(attempts).toHaveLength(4);
    for (let i = 1; i < attempts.length; i++) expect(attempts[i] - attempts[i - 1]).toBeGreaterThanOrEqual(95);
    expect(retryEvents).toEqual([2, 3, 4]);
  });

  it('gives every partition to exactly one member, balanced, as members go 1 → 4 → 1', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 12 });
    const admin = brook.admin();
    const members = [await startConsumer(brook, topic)];
    const snapshot = async (expected: number) =>
      waitFor(
        async () => {
          const description = await admin.describeGroup({ group: 'billing', topic });
          const live = new Set(members.map((m) => m.consumer.memberId));
          const owners = description.partitions.map((p) => p.owner);
          const counts = description.members.map((m) => m.partitions.length);
          const settled =
            description.members.length === expected &&
            owners.every((owner) => owner !== null && live.has(owner)) &&
            description.members.every((m) => m.partitions.every((p) => owners[p] === m.memberId)) &&
            Math.max(...counts) - Math.min(...counts) <= 1;
          return settled ? description : undefined;
        },
        { message: `a balanced assignment over ${expected} member(s)` },
      );

    let previous = await snapshot(1);
    for (let n = 2; n <= 4; n++) {
      members.push(await startConsumer(brook, topic));
      const current = await snapshot(n);
      const moved = current.partitions.filter((p, i) => p.owner !== previous.partitions[i].owner).length;
      // Only what balance requires moves: each new member takes its share, nothing else changes hands.
      expect(moved).toBe(Math.floor(12 / n));
      previous = current;
    }
    for (let n = 3; n >= 1; n--) {
      const leaving = members.pop()!;
      const leftBehind = previous.partitions.filter((p) => p.owner === leaving.consumer.memberId).length;
      await leaving.consumer.stop();
      const current = await snapshot(n);
      expect(current.partitions.filter((p, i) => p.owner !== previous.partitions[i].owner)).toHaveLength(leftBehind);
      previous = current;
    }
  });

  it('hands partitions over at once when a member stops, well before the session timeout', async () => {
    const brook = createBrook();
    const { topic, more } = await topicWithMessages(brook, { partitions: 4 });
    const slowSession = { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 100 };
    const a = await startConsumer(brook, topic, slowSession);
    const b = await startConsumer(brook, topic, slowSession);
    await waitFor(async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions.every((p) => p.owner !== null));
    const stoppedAt = Date.now();
    await a.consumer.stop();
    await more(40);
    await waitFor(() => b.seen.length + a.seen.length === 40, { message: 'all messages after the stop', timeoutMs: 5_000 });
    expect(Date.now() - stoppedAt).toBeLessThan(2_000);
    expect(b.seen.length).toBe(40);
  });

  it('pauses and resumes partitions', async () => {
    const brook = createBrook();
    const { topic, more } = await topicWithMessages(brook, { partitions: 2 });
    const { consumer, seen } = await startConsumer(brook, topic);
    consumer.pause([{ topic, partitions: [0] }]);
    expect(consumer.paused()).toEqual([{ topic, partitions: [0] }]);
    await brook.producer().send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: { seq: i }, partition: i % 2 })) });
    await waitFor(() => seen.length === 5);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(seen.every((s) => s.partition === 1)).toBe(true);
    consumer.resume([{ topic, partitions: [0] }]);
    await waitFor(() => seen.length === 10);
    consumer.pause([{ topic }]);
    await more(4);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(seen).toHaveLength(10);
    consumer.resume([{ topic }]);
    await waitFor(() => seen.length === 14);
  });

  it('lets a handler pause its own partition and resume it later', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 6 });
    let resume: (() => void) | undefined;
    const { seen } = await startConsumer(brook, topic, {}, ({ message, pause }) => {
      if (message.offset === 2 && resume === undefined) resume = pause();
    });
    await waitFor(() => seen.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(seen).toHaveLength(3);
    resume!();
    await waitFor(() => seen.length === 6);
  });

  it('seeks an owned partition back and reprocesses from there', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 10 });
    const { consumer, seen } = await startConsumer(brook, topic);
    await waitFor(() => seen.length === 10);
    await consumer.seek({ topic, partition: 0, offset: 6 });
    await waitFor(() => seen.length === 14);
    expect(seen.map((s) => s.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 6, 7, 8, 9]);
    await expect(consumer.seek({ topic, partition: 0, offset: -1 })).rejects.toThrow(/offset must be an integer from 0/);
  });

  it('applies a seek made before the partition is owned once it is acquired', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 10 });
    const consumer = brook.consumer({ group: 'early-seek', ...FAST });
    const offsets: number[] = [];
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.seek({ topic, partition: 0, offset: 7 });
    await consumer.run({ eachMessage: async ({ message }) => void offsets.push(message.offset) });
    await waitFor(() => offsets.length === 3);
    expect(offsets).toEqual([7, 8, 9]);
  });

  it('reports committed offset, lag and pending that match what was processed', async () => {
    const brook = createBrook();
    const { topic, more } = await topicWithMessages(brook, { partitions: 1, count: 10 });
    let release!: () => void;
    const blocker = new Promise<void>((resolve) => (release = resolve));
    const { seen, consumer } = await startConsumer(brook, topic, {}, async ({ message }) => {
      if (message.offset === 4) await blocker;
    });
    await waitFor(() => seen.length === 4);
    await more(5);
    const during = await waitFor(async () => {
      const [partition] = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions;
      return partition.highOffset === 15 && partition.committedOffset === 4 ? partition : undefined;
    });
    expect(during.owner).toBe(consumer.memberId);
    expect(during.pending).toBeGreaterThanOrEqual(1);
    expect(during.lag).toBe(11);
    release();
    await waitFor(() => seen.length === 15);
    const after = await waitFor(async () => {
      const [partition] = (await brook.admin().describeGroup({ group: 'billing', topic })).partitions;
      return partition.pending === 0 ? partition : undefined;
    });
    expect(after).toMatchObject({ committedOffset: 15, highOffset: 15, lag: 0, pending: 0, retrying: 0, deadLettered: 0 });
  });

  it('resets offsets only when the group is idle, to earliest, latest, an offset or a timestamp', async () => {
    const brook = createBrook();
    const admin = brook.admin();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 10 });
    const first = await startConsumer(brook, topic);
    await waitFor(() => first.seen.length === 10);
    await expect(admin.resetOffsets({ group: 'billing', topic, to: 'earliest' })).rejects.toThrow(/has 1 live member\(s\); stop them/);
    await first.consumer.stop();

    const replay = async (to: Parameters<typeof admin.resetOffsets>[0]['to']) => {
      await admin.resetOffsets({ group: 'billing', topic, to });
      const { consumer, seen } = await startConsumer(brook, topic);
      await waitFor(async () => (await admin.describeGroup({ group: 'billing', topic })).partitions[0].lag === 0);
      await consumer.stop();
      return seen.map((s) => s.offset);
    };
    expect(await replay({ offset: 7 })).toEqual([7, 8, 9]);
    expect(await replay('earliest')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await replay('latest')).toEqual([]);

    const now = Date.now();
    await brook.producer().send({ topic, messages: [{ value: { seq: 0 }, timestamp: now + 1_000 }, { value: { seq: 1 }, timestamp: now + 2_000 }] });
    expect(await admin.resetOffsets({ group: 'billing', topic, to: { timestamp: now + 1_500 } })).toEqual([{ partition: 0, offset: 11 }]);
    await expect(admin.resetOffsets({ group: 'billing', topic, to: 'middle' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(admin.resetOffsets({ group: 'nobody', topic, to: 'earliest' })).rejects.toThrow(/Group 'nobody' does not exist/);
  });

  it('resets by force while members run, who continue from the new position', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1, count: 5 });
    const { seen } = await startConsumer(brook, topic);
    await waitFor(() => seen.length === 5);
    await brook.admin().resetOffsets({ group: 'billing', topic, to: { offset: 2 }, force: true });
    await brook.producer().send({ topic, messages: [{ value: { seq: 99 } }] });
    await waitFor(() => seen.some((s) => s.offset === 5));
    expect(seen.map((s) => s.offset)).toContain(5);
  });

  it('lists groups with their topics and live members', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1 });
    const a = await startConsumer(brook, topic, { group: 'alpha' });
    await startConsumer(brook, topic, { group: 'beta' });
    await startConsumer(brook, topic, { group: 'beta' });
    await a.consumer.stop();
    expect(await brook.admin().listGroups()).toEqual([
      { group: 'alpha', kind: 'exclusive', topics: [topic], members: 0 },
      { group: 'beta', kind: 'exclusive', topics: [topic], members: 2 },
    ]);
  });

  it('skips and counts messages that retention removed before the group read them', async () => {
    const brook = createBrook();
    const topic = uniqueName('trimmed');
    await brook.admin().createTopic({ topic, partitions: 1, retention: { maxAgeMs: 1_000 } });
    const idle = await startConsumer(brook, topic, { group: 'slow' });
    await idle.consumer.stop();
    const [old] = await brook.producer().send({ topic, messages: Array.from({ length: 4 }, (_, i) => ({ value: { seq: i } })) });
    await waitForRedisTime(old.timestamp + 1_000);
    await brook.producer().send({ topic, messages: Array.from({ length: 6 }, (_, i) => ({ value: { seq: i + 4 } })) });
    expect(await brook.admin().enforceRetention()).toEqual([{ topic, removed: 4 }]);

    const skipped: number[][] = [];
    const { consumer, seen } = await startConsumer(brook, topic, { group: 'slow' });
    consumer.on('skipped', ({ from, to }) => skipped.push(Array.from({ length: to - from + 1 }, (_, i) => from + i)));
    await waitFor(() => seen.length === 6);
    expect(seen.map((s) => s.offset)).toEqual([4, 5, 6, 7, 8, 9]);
    await waitFor(() => skipped.length > 0);
    expect(skipped.flat()).toEqual([0, 1, 2, 3]);
    const stats = await rawRedis().hgetall(`${brook.options.prefix}:{${topic}:0}:stats:slow`);
    expect(stats).toMatchObject({ skipped: '4', processed: '6' });
  });

  it('consumes partitions added while it runs from their first message', async () => {
    const brook = createBrook({ metadataMaxAgeMs: 0 });
    const { topic } = await topicWithMessages(brook, { partitions: 1 });
    const { seen } = await startConsumer(brook, topic, { fromBeginning: false });
    await brook.admin().addPartitions(topic, 3);
    await brook.producer().send({ topic, messages: [0, 1, 2].map((partition) => ({ value: { seq: partition }, partition })) });
    await waitFor(() => seen.length === 3, { message: 'one message per partition, new ones included' });
    expect(seen.map((s) => s.partition).sort()).toEqual([0, 1, 2]);
  });

  it('refuses bad options and calls with errors naming the fix', async () => {
    const brook = createBrook();
    const { topic } = await topicWithMessages(brook, { partitions: 1 });
    expect(() => brook.consumer({ group: '__x' })).toThrow(InvalidNameError);
    expect(() => brook.consumer({ group: 'g', sessionTimeoutMs: 1_000, heartbeatIntervalMs: 500 })).toThrow(/heartbeatIntervalMs must be an integer from 10 to 333/);
    expect(() => brook.consumer({ group: 'g', maxBatchSize: 0 })).toThrow(InvalidArgumentError);
    const consumer = brook.consumer({ group: 'g', ...FAST });
    await expect(consumer.subscribe({ topic: uniqueName('missing') })).rejects.toBeInstanceOf(UnknownTopicError);
    await expect(consumer.run({ eachMessage: async () => undefined })).rejects.toThrow(/Subscribe to at least one topic/);
    await consumer.subscribe({ topic });
    await expect(consumer.run({} as never)).rejects.toThrow(/run needs \{ eachMessage/);
    await consumer.run({ eachMessage: async () => undefined });
    await expect(consumer.run({ eachMessage: async () => undefined })).rejects.toThrow(/already called/);
    await expect(consumer.subscribe({ topic })).rejects.toThrow(/before run/);
    await expect(consumer.seek({ topic: 'other', partition: 0, offset: 0 })).rejects.toThrow(/not subscribed to 'other'/);
  });
});
