import { describe, expect, inject, it } from 'vitest';
import { NonRetriableError } from '@brook/broker';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';
import { startConsumer } from '../consumer/helpers.js';
import { createBrook, rawRedis, uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { send, startTestHost } from './host.js';
import { startHostProcess, type HostProcess } from './host-process.js';

const MESSAGES = 20_000;
const PARTITIONS = 4;
const MAX_PER_SECOND = 2_000;

interface Job {
  id: string;
  state: string;
  matched: number;
  replayed: number;
  parked: number;
}

describe('replay jobs across broker hosts', () => {
  it('replays 20,000 dead letters exactly once although the controller running the job is SIGKILLed mid-way', { timeout: 240_000 }, async () => {
    const prefix = uniquePrefix();
    const brook = createBrook({ prefix });
    const topic = uniqueName('refunds');
    await brook.admin().createTopic({ topic, partitions: PARTITIONS });
    const billing = await startConsumer(brook, topic, { retry: { attempts: 1 } }, () => {
      throw new NonRetriableError('refund service down');
    });
    for (let from = 0; from < MESSAGES; from += 1_000) {
      await brook.producer().send({ topic, messages: Array.from({ length: 1_000 }, (_, n) => ({ key: `r${from + n}`, value: { n: from + n } })) });
    }
    await waitFor(async () => (await brook.admin().deadLetters.count({ topic, group: 'billing' })).total === MESSAGES, {
      timeoutMs: 150_000,
      message: 'every message to be dead-lettered',
    });
    // Nobody consumes meanwhile: every replayed message waits in the group's delay queue, where it is counted.
    await billing.consumer.stop();

    const env = { REDIS_URL: inject('redisUrl'), BROOK_PREFIX: prefix, BROOK_CONTROLLER_LEASE_MS: '1000', BROOK_MAINTENANCE_INTERVAL_MS: '100' };
    const hosts = await Promise.all([startHostProcess({ ...env, BROOK_HOST_ID: 'host-a' }), startHostProcess({ ...env, BROOK_HOST_ID: 'host-b' })]);
    const started = await send(hosts[0].url, 'POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', all: true, maxPerSecond: MAX_PER_SECOND } });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const jobId: string = started.body.job.id;
    expect(started.body.job).toMatchObject({ state: 'running', matched: MESSAGES, actor: 'oncall' });
    const job = async (host: HostProcess) => (await send<Job>(host.url, 'GET', `/api/v1/dead-letters/replays/${jobId}`, { token: 'viewer' })).body;

    await waitFor(async () => (await job(hosts[0])).replayed >= MESSAGES / 4, { timeoutMs: 60_000, message: 'the job to replay a quarter' });
    const leaders = await Promise.all(hosts.map(async (host) => (await send(host.url, 'GET', '/api/v1/controller', { token: 'viewer' })).body.isLeader as boolean));
    const leader = hosts[leaders.indexOf(true)];
    const survivor = hosts[leaders.indexOf(false)];
    leader.kill('SIGKILL');
    await leader.exited;
    const atKill = (await job(survivor)).replayed;
    expect(atKill).toBeLessThan(MESSAGES);

    await waitFor(async () => (await job(survivor)).state === 'done', { timeoutMs: 90_000, message: 'the surviving host to finish the job' });
    const finished = await job(survivor);

    // Each message's replay count, straight from Redis: 0 lost, 2+ duplicated.
    const redis = rawRedis();
    const keys = new KeySpace(prefix);
    const counts = new Map<string, number>();
    let queued = 0;
    let deadLetters = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      for (const [id, count] of Object.entries(await redis.hgetall(keys.deadLetterReplays(topic, p, 'billing')))) counts.set(`${p}:${id}`, Number(count));
      queued += await redis.zcard(keys.delayQueue(topic, p, 'billing'));
      deadLetters += await redis.xlen(keys.deadLetters(topic, p, 'billing'));
    }
    await redis.quit();
    const duplicated = [...counts.values()].filter((count) => count > 1).length;
    const lost = MESSAGES - [...counts.values()].filter((count) => count >= 1).length;
    console.log(
      `replay job kill: ${MESSAGES} dead letters, host killed after ${atKill} replayed; lost ${lost}, duplicated ${duplicated}, ` +
        `job replayed ${finished.replayed}, delay queue ${queued}, dead letters left ${deadLetters}`,
    );
    expect({ lost, duplicated, replayed: finished.replayed, parked: finished.parked, queued, deadLetters }).toEqual({
      lost: 0,
      duplicated: 0,
      replayed: MESSAGES,
      parked: 0,
      queued: MESSAGES,
      deadLetters: 0,
    });

    const audit = (await send(survivor.url, 'GET', '/api/v1/dead-letters/audit', { token: 'viewer' })).body.items as Array<{ action: string; actor: string; result: { jobId?: string; state?: string } }>;
    expect(audit.filter((entry) => entry.result.jobId === jobId).map(({ action, actor, result }) => [action, actor, result.state])).toEqual([
      ['replay-job-end', 'oncall', 'done'],
      ['replay-job', 'oncall', 'running'],
    ]);
    survivor.kill('SIGTERM');
    await survivor.exited;
  });

  it('stops a replay job on DELETE: it ends cancelled, and what it did not replay stays dead-lettered', async () => {
    const host = await startTestHost({ maintenanceIntervalMs: 100, controllerLeaseMs: 1_000 });
    const topic = uniqueName('refunds');
    await host.brook.admin().createTopic({ topic, partitions: 2 });
    const billing = await startConsumer(host.brook, topic, { retry: { attempts: 1 } }, () => {
      throw new NonRetriableError('refund service down');
    });
    await host.brook.producer().send({ topic, messages: Array.from({ length: 600 }, (_, n) => ({ key: `r${n}`, value: n })) });
    await waitFor(async () => (await host.brook.admin().deadLetters.count({ topic })).total === 600, { timeoutMs: 60_000, message: 'every message to be dead-lettered' });
    await billing.consumer.stop();

    const dryRun = await host.request('POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', all: true, dryRun: true } });
    expect(dryRun.body).toMatchObject({ matched: 600, complete: true });
    const started = await host.request('POST', '/api/v1/dead-letters/replay', { token: 'operator', body: { topic, group: 'billing', all: true, maxPerSecond: 20 } });
    const jobId: string = started.body.job.id;
    await waitFor(async () => (await host.request('GET', `/api/v1/dead-letters/replays/${jobId}`, { token: 'viewer' })).body.replayed > 0, { message: 'the job to start' });
    const cancelled = await host.request('DELETE', `/api/v1/dead-letters/replays/${jobId}`, { token: 'operator' });
    expect(cancelled.body).toMatchObject({ id: jobId, state: 'cancelled' });
    // The runner stops after its current step: the job's count and the dead letters left always add up.
    const left = async () => (await host.brook.admin().deadLetters.count({ topic })).total;
    const jobNow = async () => (await host.request('GET', '/api/v1/dead-letters/replays', { token: 'viewer' })).body.items.find((item: { id: string }) => item.id === jobId);
    // Once the step in flight at the cancel has landed, the two agree for good.
    await waitFor(async () => (await jobNow()).replayed + (await left()) === 600, { message: "the job's count and the dead letters left to add up" });
    const job = await jobNow();
    expect(job.state).toBe('cancelled');
    expect(job.replayed).toBeLessThan(600);
    const audit = (await host.request('GET', '/api/v1/dead-letters/audit', { token: 'viewer' })).body.items;
    expect(audit[0]).toMatchObject({ actor: 'oncall', action: 'replay-job-end', result: { jobId, state: 'cancelled' } });
  });
});
