import { describe, expect, it } from 'vitest';
import { uniqueName } from '../support/brook.js';
import { topicWithDeadLetters } from './fixtures.js';
import { startTestHost, type TestHost } from './host.js';

/** The scrape as `name{labels} value` lines of the brook_ metrics that are not process metrics. */
async function scrape(host: TestHost): Promise<Map<string, number>> {
  const { body } = await host.request<string>('GET', '/metrics', { token: 'viewer' });
  const samples = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (!line.startsWith('brook_') || line.startsWith('brook_process_') || line.startsWith('brook_nodejs_')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe('broker host metrics', () => {
  it('exports offsets per partition, and lag, pending, DLT depth and counters per group and partition', async () => {
    const host = await startTestHost();
    const { topic, billing, deadLetters } = await topicWithDeadLetters(host.brook, { partitions: 1, failing: 2, passing: 3 });
    const samples = await scrape(host);
    const p = `topic="${topic}",partition="0"`;
    const gp = `group="billing",topic="${topic}",partition="0"`;
    expect(deadLetters).toHaveLength(2);
    expect(samples.get(`brook_topic_partitions{topic="${topic}"}`)).toBe(1);
    expect(samples.get(`brook_partition_high_offset{${p}}`)).toBe(5);
    expect(samples.get(`brook_partition_low_offset{${p}}`)).toBe(0);
    expect(samples.get(`brook_group_members{group="billing"}`)).toBe(1);
    expect(samples.get(`brook_group_lag{${gp}}`)).toBe(0);
    expect(samples.get(`brook_group_committed_offset{${gp}}`)).toBe(5);
    expect(samples.get(`brook_group_pending{${gp}}`)).toBe(0);
    expect(samples.get(`brook_group_retrying{${gp}}`)).toBe(0);
    expect(samples.get(`brook_dead_letters{${gp}}`)).toBe(2);
    expect(samples.get(`brook_messages_processed_total{${gp}}`)).toBe(3);
    expect(samples.get(`brook_messages_dead_lettered_total{${gp}}`)).toBe(2);
    expect(samples.get(`brook_messages_failed_total{${gp}}`)).toBe(2);
    expect(samples.get('brook_up')).toBe(1);
    expect(samples.get('brook_metrics_truncated')).toBe(0);
    expect(samples.get('brook_controller_leader')).toBeDefined();

    await billing.consumer.stop();
    await host.brook.producer().send({ topic, messages: [{ value: { id: 9 } }, { value: { id: 10 } }] });
    const later = await scrape(host);
    expect(later.get(`brook_partition_high_offset{${p}}`)).toBe(7);
    expect(later.get(`brook_group_lag{${gp}}`)).toBe(2);
    expect(later.get(`brook_group_members{group="billing"}`)).toBe(0);
  });

  it('drops the series of deleted topics', async () => {
    const host = await startTestHost();
    const topic = uniqueName('gone');
    await host.brook.admin().createTopic({ topic, partitions: 2 });
    expect((await scrape(host)).has(`brook_partition_high_offset{topic="${topic}",partition="1"}`)).toBe(true);
    await host.brook.admin().deleteTopic(topic);
    expect([...(await scrape(host)).keys()].some((key) => key.includes(topic))).toBe(false);
  });

  it('serves scrapes within the cache time from one read of Redis', async () => {
    const host = await startTestHost({ metricsCacheMs: 60_000 });
    const topic = uniqueName('cached');
    await host.brook.admin().createTopic({ topic, partitions: 1 });
    const key = `brook_partition_high_offset{topic="${topic}",partition="0"}`;
    const [first, concurrent] = await Promise.all([scrape(host), scrape(host)]);
    expect(first.get(key)).toBe(0);
    expect(concurrent.get(key)).toBe(0);
    await host.brook.producer().send({ topic, messages: [{ value: 1 }] });
    expect((await scrape(host)).get(key)).toBe(0);

    const fresh = await startTestHost({ prefix: host.prefix, metricsCacheMs: 0 });
    expect((await scrape(fresh)).get(key)).toBe(1);
  });

  it('visits at most metricsMaxPartitions partitions per read and says when it left some out', async () => {
    const host = await startTestHost({ metricsMaxPartitions: 5 });
    for (const name of ['a', 'b', 'c']) await host.brook.admin().createTopic({ topic: `${name}-topic`, partitions: 2 });
    const samples = await scrape(host);
    expect(samples.get('brook_metrics_truncated')).toBe(1);
    expect(samples.get('brook_metrics_partitions_read')).toBe(4);
    expect([...samples.keys()].filter((key) => key.startsWith('brook_partition_high_offset'))).toHaveLength(4);
    // Health still says what it could see.
    expect((await host.request('GET', '/health', { token: null })).body.info.topology).toMatchObject({ status: 'up', topics: 2, partitions: 4, truncated: true });
  });

  it('reports Redis down in health and metrics within their time limits', async () => {
    const host = await startTestHost({ redisUrl: 'redis://127.0.0.1:1' });
    const started = Date.now();
    const health = await host.request('GET', '/health', { token: null });
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'error', error: { redis: { status: 'down' }, topology: { status: 'down' } } });
    expect((await scrape(host)).get('brook_up')).toBe(0);
    // The client keeps retrying Redis for longer; probes and scrapes do not wait for it.
    expect(Date.now() - started).toBeLessThan(7_000);
  });
});
