import { afterEach, describe, expect, inject, it } from 'vitest';
import { createBrook, uniqueName, waitFor } from '../support/brook.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { addressOf } from '../support/redis-admin.js';
import { SentinelSetup } from '../support/sentinel.js';
import { HistoryRecorder } from './support/history.js';
import { ownedPartitions, startScenarioMember } from './support/scenario-members.js';
import { Workload } from './support/workload.js';

const PARTITIONS = 2;
/** How long the sentinel takes to answer: asking it for the primary takes two round trips. */
const SENTINEL_REPLY_DELAY_MS = 1_500;

let setup: SentinelSetup | undefined;
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
  await setup?.stop();
  setup = undefined;
});

describe('members reconnect through a slow sentinel while it fails over', () => {
  it('regression: a connection gave up for good (ioredis status end) when the sentinel announced the failover while it was asking the sentinel for the primary; the member never came back', async () => {
    setup = await SentinelSetup.start({ sentinels: 1 });
    const [primary, replica] = [setup.primary, setup.replica];
    // The members ask the sentinel through a proxy that holds every reply back: a reconnect spends
    // most of its time waiting for the sentinel, as it does when a sentinel host is slow.
    const proxy = await FaultProxy.start({ port: setup.sentinels[0].port });
    proxies.push(proxy);
    proxy.setReplyDelay(SENTINEL_REPLY_DELAY_MS);
    const deployment = { sentinels: [{ host: '127.0.0.1', port: proxy.port }], name: setup.name };
    // The test's own clients go straight to the primary of the moment.
    const before = createBrook({ redis: primary.url });
    const prefix = before.options.prefix;
    const topic = uniqueName('orders');
    const group = 'billing';
    await before.admin().createTopic({ topic, partitions: PARTITIONS });
    const settings = { deployment, recordUrl: inject('redisUrl'), records: `${prefix}:runs`, prefix, topic, group, sessionMs: 3_000 };
    const members = await Promise.all([startScenarioMember('a', settings), startScenarioMember('b', settings)]);
    await waitFor(() => members.every((member) => ownedPartitions(member).size === 1), { message: 'one partition per member', timeoutMs: 20_000 });
    const history = new HistoryRecorder();
    expect(await new Workload(before, topic, history).produce(20, 'before-fault')).toBe(true);
    const finished = (brook: typeof before) => async () => (await brook.admin().describeGroup({ group, topic })).partitions.every((p) => p.lag === 0 && p.pending === 0);
    await waitFor(finished(before), { message: 'the first messages to be handled', timeoutMs: 20_000 });

    const killedAt = Date.now();
    await primary.kill();
    await waitFor(async () => (await setup!.reportedPrimary()) === addressOf(replica), { message: 'the sentinel to promote the replica', timeoutMs: 30_000, intervalMs: 50 });
    const after = createBrook({ redis: replica.url, prefix });
    expect(await new Workload(after, topic, history).produce(20, 'after-fault')).toBe(true);

    const rejoined = await Promise.all(
      members.map(async (member) => {
        const back = await waitFor(() => member.events.find((e) => e.type === 'rebalance' && e.at > killedAt && e.assigned.length > 0), {
          message: `member ${member.name} to take a partition again`,
          timeoutMs: 25_000,
        }).catch(() => undefined);
        return { member: member.name, rejoinedAfterMs: back?.type === 'rebalance' ? back.at - killedAt : null };
      }),
    );
    console.log(`sentinel reconnect: ${JSON.stringify(rejoined)} (ms after the primary died)`);

    expect(rejoined.filter((r) => r.rejoinedAfterMs === null)).toEqual([]);
    await waitFor(finished(after), { message: 'the messages written after the failover to be handled', timeoutMs: 20_000 });
    await Promise.all(members.map((member) => member.stop()));
  });
});
