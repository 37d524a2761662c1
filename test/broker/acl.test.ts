import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Brook, brookAclRules, NonRetriableError, RedisPermissionError, type BrookOptions } from '@brook/broker';
import { uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { ask, waitForReplicas } from '../support/redis-admin.js';
import { ClusterSetup } from '../support/cluster.js';
import { RedisServer } from '../support/redis-server.js';

const servers: RedisServer[] = [];
const clients: Brook[] = [];
let cluster: ClusterSetup | undefined;
afterEach(async () => {
  await Promise.all(clients.splice(0).map((brook) => brook.close()));
  await cluster?.stop();
  cluster = undefined;
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A primary with one replica (so acks 'all' has something to wait for), both full of nothing. */
async function startPrimary(): Promise<RedisServer> {
  const primary = await RedisServer.start();
  servers.push(primary);
  servers.push(await RedisServer.start({ replicaOf: primary }));
  await waitForReplicas(primary, 1);
  return primary;
}

/** Creates a user with exactly `rules` and a Brook client connected as that user. */
async function connectAs(server: RedisServer, rules: string[], options: Partial<BrookOptions> & { prefix: string }): Promise<Brook> {
  const user = `brook-${randomBytes(3).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await ask(server.port, 'ACL', 'SETUSER', user, 'on', `>${password}`, ...rules);
  const brook = new Brook({ redis: `redis://${user}:${password}@127.0.0.1:${server.port}`, clientId: 'acl', logger: silent, ...options });
  clients.push(brook);
  return brook;
}

/** What the server's ACL log recorded as refused (command or key), e.g. `command xadd`. */
async function refusals(server: RedisServer): Promise<string[]> {
  const entries = await ask<unknown[][]>(server.port, 'ACL', 'LOG');
  return entries.map((flat) => {
    const fields = Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]]));
    return `${String(fields.reason)} ${String(fields.object)}`;
  });
}

describe('least privilege: brookAclRules', () => {
  it('lists the key pattern of the prefix, no channels and only named commands', () => {
    const rules = brookAclRules('orders-prod');
    expect(rules.slice(0, 4)).toEqual(['resetkeys', '~orders-prod:*', 'resetchannels', '-@all']);
    expect(rules.slice(4).every((rule) => /^\+[a-z]+(\|[a-z]+)?$/.test(rule))).toBe(true);
    expect(rules).toContain('+evalsha');
    expect(rules).toContain('+wait');
    expect(rules).toContain('+cluster|shards');
    expect(() => brookAclRules('no spaces')).toThrow(/Invalid key prefix/);
  });

  it('the README shows the ACL SETUSER line brookAclRules produces', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith('ACL SETUSER brook '));
    expect(line).toBe(`ACL SETUSER brook on >change-me ${brookAclRules('brook').join(' ')}`);
  });

  it('a user with exactly those rules runs producers (acks all), a consumer group with dead letters and replay, admin and a share group, and Redis refuses nothing', async () => {
    const primary = await startPrimary();
    const prefix = uniquePrefix();
    const brook = await connectAs(primary, brookAclRules(prefix), { prefix });
    const admin = brook.admin();
    const topic = uniqueName('orders');
    await admin.createTopic({ topic, partitions: 3, retention: { maxMessages: 1_000, maxAgeMs: 3_600_000 } });
    expect(await admin.listTopics()).toContainEqual({ topic, partitions: 3 });
    await admin.addPartitions(topic, 4);

    const sent = await brook.producer({ acks: 'all', producerId: 'acl-test' }).send({
      topic,
      messages: Array.from({ length: 12 }, (_, n) => ({ key: `k${n}`, value: { n, poison: n === 5 } })),
    });
    expect(sent).toHaveLength(12);

    const group = uniqueName('billing');
    const consumer = brook.consumer({ group, sessionTimeoutMs: 3_000, heartbeatIntervalMs: 200 });
    const handled = new Set<number>();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      retry: { attempts: 2, backoff: { type: 'fixed', initialMs: 10, jitter: 0 } },
      eachMessage: async ({ message }) => {
        const value = message.value as { n: number; poison: boolean };
        if (value.poison && !handled.has(-1)) throw new NonRetriableError('poison');
        handled.add(value.n);
      },
    });
    const describe = () => admin.describeGroup({ group, topic });
    await waitFor(async () => handled.size === 11 && (await describe()).partitions.every((p) => p.lag === 0 && p.pending === 0), {
      message: 'the group to handle all but the poison message',
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    const letters = await admin.deadLetters.list({ topic, group });
    expect(letters.items).toHaveLength(1);
    handled.add(-1);
    expect(await admin.deadLetters.replay({ topic, group, all: true })).toMatchObject({ replayed: 1 });
    await waitFor(() => handled.has(5), { message: 'the replayed message to be handled', timeoutMs: 20_000 });
    await consumer.stop();

    expect((await admin.describeTopic(topic)).partitions).toHaveLength(4);
    expect((await admin.listGroups()).map((g) => g.group)).toContain(group);
    expect((await admin.readMessages({ topic, partition: sent[0].partition, offset: 0, limit: 10 })).messages.length).toBeGreaterThan(0);
    await admin.enforceRetention();
    await admin.resetOffsets({ group, topic, to: 'earliest' });

    const shareGroup = uniqueName('mailers');
    const share = brook.shareConsumer({ group: shareGroup });
    const shared = new Set<number>();
    await share.subscribe({ topic, fromBeginning: true });
    await share.run({ eachMessage: async ({ message }) => void shared.add((message.value as { n: number }).n) });
    await waitFor(() => shared.size === 12, { message: 'the share group to handle every message', timeoutMs: 20_000 });
    await share.stop();

    const lease = brook.controllerLease({ leaseMs: 2_000 });
    await lease.start();
    await waitFor(() => lease.isLeader, { message: 'the controller lease' });
    await lease.close();
    await admin.deleteTopic(topic);
    await brook.close();

    expect(await refusals(primary)).toEqual([]);
  });

  it('on Redis Cluster, a user with exactly those rules on every node produces, consumes and reads the topology, and no node refuses anything', async () => {
    cluster = await ClusterSetup.start();
    const prefix = uniquePrefix();
    const user = `brook-${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    for (const node of cluster.servers) await ask(node.port, 'ACL', 'SETUSER', user, 'on', `>${password}`, ...brookAclRules(prefix));
    const brook = new Brook({ redis: { ...cluster.connection, options: { redisOptions: { username: user, password } } }, prefix, clientId: 'acl', logger: silent });
    clients.push(brook);
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 6 });
    await brook.producer().send({ topic, messages: Array.from({ length: 12 }, (_, n) => ({ key: `k${n}`, value: n })) });
    const consumer = brook.consumer({ group: uniqueName('billing') });
    const handled = new Set<number>();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void handled.add(message.value as number) });
    await waitFor(() => handled.size === 12, { message: 'the group to handle every message on the cluster', timeoutMs: 20_000 });
    await consumer.stop();
    expect((await brook.admin().describeTopic(topic)).partitions).toHaveLength(6);
    await brook.close();
    for (const node of cluster.servers) expect(await refusals(node)).toEqual([]);
  });

  it('a user without a command Brook sends fails at once with RedisPermissionError naming the command and the fix, and is not retried', async () => {
    const primary = await startPrimary();
    const prefix = uniquePrefix();
    const brook = await connectAs(primary, brookAclRules(prefix).filter((rule) => rule !== '+hgetall'), { prefix, connection: { retries: 1_000 } });
    const error = await brook.admin().listTopics().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisPermissionError);
    expect(error).toMatchObject({ code: 'NO_PERMISSION', retriable: false, command: 'hgetall' });
    expect((error as Error).message).toMatch(/Could not list topics: the Redis user may not run 'hgetall'.*ACL SETUSER <user> followed by brookAclRules\(prefix\)/);
    expect(await refusals(primary)).toEqual(['command hgetall']);
  });

  it('a user without a command one of the scripts runs fails the send at once with RedisPermissionError, not after retries', async () => {
    const primary = await startPrimary();
    const prefix = uniquePrefix();
    const brook = await connectAs(primary, brookAclRules(prefix).filter((rule) => rule !== '+xadd'), { prefix, connection: { retries: 1_000 } });
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const producer = brook.producer();
    const retried: string[] = [];
    producer.on('request.error', ({ error }) => retried.push(error.code));
    const error = await producer.send({ topic, messages: [{ value: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisPermissionError);
    expect(error).toMatchObject({ code: 'NO_PERMISSION', retriable: false });
    expect((error as Error).message).toMatch(/Could not send to partition 0 of '.*': the Redis user may not run a command or use a key Brook needs/);
    expect(retried.filter((code) => code !== 'NO_PERMISSION')).toEqual([]);
    expect(await refusals(primary)).toEqual(['command xadd']);
  });

  it.each(['+xreadgroup', '+xautoclaim'])('a consumer whose user lacks %s reports RedisPermissionError and stops (crash) instead of retrying', async (missing) => {
    const primary = await startPrimary();
    const prefix = uniquePrefix();
    const full = await connectAs(primary, brookAclRules(prefix), { prefix });
    const topic = uniqueName('orders');
    await full.admin().createTopic({ topic, partitions: 2 });
    await full.producer().send({ topic, messages: [{ value: 'x' }, { value: 'y' }] });
    const brook = await connectAs(primary, brookAclRules(prefix).filter((rule) => rule !== missing), { prefix, connection: { retries: 1_000 } });
    const consumer = brook.consumer({ group: uniqueName('billing') });
    const crashes: unknown[] = [];
    const stopped = new Promise<void>((resolve) => consumer.on('stop', () => resolve()));
    consumer.on('crash', ({ error }) => crashes.push(error));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => undefined });
    await stopped;
    expect(crashes).toHaveLength(1);
    expect(crashes[0]).toBeInstanceOf(RedisPermissionError);
    expect(crashes[0]).toMatchObject({ code: 'NO_PERMISSION', retriable: false });
    expect(await refusals(primary)).toEqual([`command ${missing.slice(1)}`]);
  });

  it('a share consumer whose user lacks +xreadgroup stops with RedisPermissionError', async () => {
    const primary = await startPrimary();
    const prefix = uniquePrefix();
    const full = await connectAs(primary, brookAclRules(prefix), { prefix });
    const topic = uniqueName('orders');
    await full.admin().createTopic({ topic, partitions: 1 });
    await full.producer().send({ topic, messages: [{ value: 'x' }] });
    const brook = await connectAs(primary, brookAclRules(prefix).filter((rule) => rule !== '+xreadgroup'), { prefix, connection: { retries: 1_000 } });
    const share = brook.shareConsumer({ group: uniqueName('mailers') });
    const crashed = new Promise<unknown>((resolve) => share.on('crash', ({ error }) => resolve(error)));
    await share.subscribe({ topic, fromBeginning: true });
    await share.run({ eachMessage: async () => undefined });
    expect(await crashed).toBeInstanceOf(RedisPermissionError);
  });

  it("a user limited to another prefix's keys fails with RedisPermissionError on Brook's first key", async () => {
    const primary = await startPrimary();
    const brook = await connectAs(primary, brookAclRules('other'), { prefix: uniquePrefix() });
    const error = await brook.admin().createTopic({ topic: uniqueName('orders'), partitions: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisPermissionError);
    expect(error).toMatchObject({ code: 'NO_PERMISSION', retriable: false });
    expect((error as Error).message).toMatch(/NOPERM/);
  });
});
