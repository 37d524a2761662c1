import { describe, expect, inject, it } from 'vitest';
import { createBrook, rawRedis, uniqueName, waitFor } from '../support/brook.js';
import { startMember, type MemberSettings } from '../support/members.js';
import { readRecords } from './load.js';

interface FailureRecord {
  member: string;
  partition: number;
  offset: number;
  attempt: number;
  at: number;
}

describe.each(['blocking', 'non-blocking'] as const)('SIGKILL during %s retries', (retryMode) => {
  it('continues attempt counts across crashes, never both dead-letters and processes a message, loses none', async () => {
    const brook = createBrook();
    const topic = uniqueName('payments');
    const partitions = 4;
    await brook.admin().createTopic({ topic, partitions });
    const settings: MemberSettings = {
      redisUrl: inject('redisUrl'),
      prefix: brook.options.prefix,
      topic,
      group: 'billing',
      records: `${brook.options.prefix}:records`,
      sessionMs: 600,
      heartbeatMs: 50,
      attempts: 4,
      backoffMs: 150,
      retryMode,
    };
    const total = 200;
    await brook.producer().send({ topic, messages: Array.from({ length: total }, (_, i) => ({ key: `k${i % 20}`, value: { seq: i, poison: i % 25 === 0 } })) });
    const poison = Array.from({ length: total }, (_, i) => i).filter((i) => i % 25 === 0).length;

    // Kill the only member again and again while poison messages are being retried.
    for (let round = 0; round < 4; round++) {
      const member = await startMember(`m${round}`, settings);
      const failuresBefore = await rawRedis().llen(`${settings.records}:failures`);
      await waitFor(async () => (await rawRedis().llen(`${settings.records}:failures`)) >= failuresBefore + 2, { message: 'retries to happen', timeoutMs: 15_000 });
      member.signal('SIGKILL');
      await member.exited;
    }
    const last = await startMember('last', settings);
    await waitFor(async () => (await brook.admin().deadLetters.count({ topic })).total === poison, { message: 'every poison message dead-lettered', timeoutMs: 30_000 });
    await waitFor(async () => (await brook.admin().describeGroup({ group: 'billing', topic })).partitions.every((p) => p.lag === 0), {
      message: 'the group to finish',
      timeoutMs: 15_000,
    });
    await last.stop();

    const processed = await readRecords(settings.records);
    const failures = (await rawRedis().lrange(`${settings.records}:failures`, 0, -1)).map((line) => JSON.parse(line) as FailureRecord);
    const deadLetters = (await brook.admin().deadLetters.list({ topic, group: 'billing', limit: 1_000 })).items;

    const processedIds = new Set(processed.map((r) => `${r.partition}:${r.offset}`));
    const deadIds = new Set(deadLetters.map((d) => `${d.partition}:${d.offset}`));
    expect([...deadIds].filter((id) => processedIds.has(id))).toEqual([]);
    expect(processedIds.size + deadIds.size).toBe(total);
    expect(deadLetters.every((d) => d.attempts === 4 && d.reason === 'handler-error')).toBe(true);

    // Per poison message, the attempt numbers seen across members never go back, and never pass 4.
    const byMessage = new Map<string, number[]>();
    for (const f of failures) byMessage.set(`${f.partition}:${f.offset}`, [...(byMessage.get(`${f.partition}:${f.offset}`) ?? []), f.attempt]);
    expect(byMessage.size).toBe(poison);
    for (const [, attempts] of byMessage) {
      expect(attempts).toEqual([...attempts].sort((a, b) => a - b));
      expect(Math.max(...attempts)).toBe(4);
      // Every count 1..4 was tried; a crash mid-attempt may repeat one number, never skip or restart.
      expect(new Set(attempts)).toEqual(new Set([1, 2, 3, 4]));
    }
    expect(new Set(failures.map((f) => f.member)).size).toBeGreaterThan(1);
  });
});
