import { afterEach, describe, expect, inject, it } from 'vitest';
import { BrookContext } from '../../libs/broker/src/client/context.js';
import { resolveBrookOptions } from '../../libs/broker/src/client/brook.options.js';
import { unpackEntries, type LogEntry } from '../../libs/broker/src/redis/packed-entries.js';
import { SCRIPTS } from '../../libs/broker/src/redis/script-table.js';
import { createBrook, rawRedis, uniqueName } from '../support/brook.js';

// Defect 2 of issue 11 at the script level: a transition whose reply was lost is sent again, and
// must change nothing the second time. And defect 1's root: an acknowledgement names its message by
// offset and message id, so after Redis handed an offset out again it cannot remove the new message.

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const contexts: BrookContext[] = [];
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((ctx) => ctx.close()));
});

const GROUP = 'billing';
const ERROR = JSON.stringify({ name: 'Error', message: 'boom' });

/**
 * One partition of a fresh topic, and Brook's script context on its key prefix (the Brook client
 * deletes the keys after the test). `own` takes the group's lease with a token; `produce` appends
 * with a known producer id, so message ids are `<producerId>:0:<seq>`.
 */
async function partitionScripts() {
  const brook = createBrook();
  const topic = uniqueName('orders');
  await brook.admin().createTopic({ topic, partitions: 1 });
  const ctx = new BrookContext(resolveBrookOptions({ redis: inject('redisUrl'), prefix: brook.options.prefix, logger: silent }));
  contexts.push(ctx);
  const keys = ctx.keys;
  const at = { topic, partition: 0, group: GROUP };
  const redis = rawRedis();
  return {
    ctx, keys, at, redis, topic,
    own: (token: string) =>
      ctx.call(SCRIPTS.acquireLease, { ...at, token, memberId: token.split(':')[0], leaseMs: 60_000, startId: '0' }),
    produce: (producerId: string, values: string[]) =>
      ctx.call(SCRIPTS.produce, {
        topic, partition: 0, producerId, epoch: 0, baseSeq: 0, maxLen: 0, timeIndex: false, minInSync: 0, aheadMs: -1, behindMs: -1,
        messages: values.map((value) => ({ timestamp: null, fields: ['e', 's', 'v', value] })),
      }),
    fetch: async (token: string): Promise<LogEntry[]> => {
      const [reply] = await ctx.call(SCRIPTS.fetch, {
        group: GROUP, maxBytes: 1_048_576,
        partitions: [{ topic, partition: 0, token, count: 100, after: '0-0', maxBytes: 1_048_576, averageBytes: 0, recheck: false }],
      });
      if (reply.status !== 'ok') throw new Error(`fetch answered ${reply.status}`);
      return unpackEntries(reply.packed);
    },
    pendingIds: async () => ((await redis.xpending(keys.log(topic, 0), GROUP, '-', '+', 100)) as Array<[string]>).map(([id]) => id),
    stats: () => redis.hgetall(keys.stats(topic, 0, GROUP)),
    attempts: async (id: string) => JSON.parse((await redis.hget(keys.attempts(topic, 0, GROUP), id)) ?? 'null') as { attempts: number } | null,
  };
}

type Scripts = Awaited<ReturnType<typeof partitionScripts>>;

/** Owns the partition with `token` and has `values` delivered to it (pending, not acknowledged). */
async function delivered(p: Scripts, token: string, values: string[]): Promise<LogEntry[]> {
  await p.produce('producer-a', values);
  expect(await p.own(token)).toMatchObject({ status: 'ok' });
  return p.fetch(token);
}

function deadLetterInput(p: Scripts, token: string, entry: LogEntry) {
  return {
    ...p.at, token, id: entry.id, messageId: entry.messageId, source: 'log' as const, failed: true,
    diagnostics: ['topic', p.topic, 'partition', 0, 'offset', entry.offset, 'group', GROUP, 'reason', 'exhausted'], fields: entry.fields,
  };
}

describe('transitions repeated after a lost reply', () => {
  it('regression: record-failure sent twice counted the attempt twice; recording the same attempt again counts it once', async () => {
    const p = await partitionScripts();
    const [message] = await delivered(p, 'member-a:1', ['X']);
    const input = { ...p.at, token: 'member-a:1', id: message.id, messageId: message.messageId, attempt: 1, error: ERROR };

    expect(await p.ctx.call(SCRIPTS.recordFailure, input)).toEqual({ status: 'ok', attempts: 1 });
    expect(await p.ctx.call(SCRIPTS.recordFailure, input)).toEqual({ status: 'ok', attempts: 1 });
    expect(await p.attempts(message.id)).toMatchObject({ attempts: 1 });
    expect(await p.stats()).toMatchObject({ failed: '1', retried: '1' });

    expect(await p.ctx.call(SCRIPTS.recordFailure, { ...input, attempt: 2 })).toEqual({ status: 'ok', attempts: 2 });
    expect(await p.stats()).toMatchObject({ failed: '2', retried: '2' });
    expect(await p.pendingIds()).toEqual([message.id]);
  });

  it('regression: schedule-retry sent twice parked the message twice; the repeat parks nothing and counts no attempt', async () => {
    const p = await partitionScripts();
    const [message] = await delivered(p, 'member-a:1', ['X']);
    const input = {
      ...p.at, token: 'member-a:1',
      messages: [{ id: message.id, messageId: message.messageId, source: 'log' as const, attempt: 1, delayMs: 60_000, error: ERROR, fields: message.fields }],
    };

    expect(await p.ctx.call(SCRIPTS.scheduleRetry, input)).toEqual({ status: 'ok', parked: 1, stale: [] });
    expect(await p.ctx.call(SCRIPTS.scheduleRetry, input)).toEqual({ status: 'ok', parked: 0, stale: [message.id] });

    expect(await p.redis.zrange(p.keys.delayQueue(p.topic, 0, GROUP), '0', '-1')).toEqual([message.id]);
    expect(await p.redis.hlen(p.keys.delayPayloads(p.topic, 0, GROUP))).toBe(1);
    expect(await p.attempts(message.id)).toMatchObject({ attempts: 1 });
    expect(await p.stats()).toMatchObject({ failed: '1', retried: '1' });
    expect(await p.pendingIds()).toEqual([]);
  });

  it('regression: dead-letter sent twice wrote two dead letters; the repeat writes none and answers stale with the first one\'s id', async () => {
    const p = await partitionScripts();
    const [message] = await delivered(p, 'member-a:1', ['X']);
    const input = deadLetterInput(p, 'member-a:1', message);

    const first = await p.ctx.call(SCRIPTS.deadLetter, input);
    expect(first).toMatchObject({ status: 'ok', deadLetterId: expect.stringMatching(/^\d+-\d+$/) });
    const repeat = await p.ctx.call(SCRIPTS.deadLetter, input);
    expect(repeat).toEqual({ status: 'stale', deadLetterId: (first as { deadLetterId: string }).deadLetterId });

    expect(await p.redis.xlen(p.keys.deadLetters(p.topic, 0, GROUP))).toBe(1);
    expect(await p.stats()).toMatchObject({ failed: '1', deadLettered: '1' });
    expect(await p.pendingIds()).toEqual([]);
  });

  it('dead-letters a retried message taken from the delay queue once when the call is repeated', async () => {
    const p = await partitionScripts();
    const [message] = await delivered(p, 'member-a:1', ['X']);
    const parked = { id: message.id, messageId: message.messageId, source: 'log' as const, attempt: 1, delayMs: 0, error: ERROR, fields: message.fields };
    await p.ctx.call(SCRIPTS.scheduleRetry, { ...p.at, token: 'member-a:1', messages: [parked] });
    await p.ctx.call(SCRIPTS.takeDue, { ...p.at, token: 'member-a:1', count: 10, maxBytes: 1_048_576 });
    const input = { ...deadLetterInput(p, 'member-a:1', message), source: 'delay' as const };

    const first = await p.ctx.call(SCRIPTS.deadLetter, input);
    expect(first.status).toBe('ok');
    expect(await p.ctx.call(SCRIPTS.deadLetter, input)).toEqual({ status: 'stale', deadLetterId: (first as { deadLetterId: string }).deadLetterId });
    expect(await p.redis.xlen(p.keys.deadLetters(p.topic, 0, GROUP))).toBe(1);
    expect(await p.stats()).toMatchObject({ failed: '2', deadLettered: '1' });
    expect(await p.redis.hlen(p.keys.delayTaken(p.topic, 0, GROUP))).toBe(0);
  });

  it('replays the same dead-letter ids once when the replay is sent twice, even after the replayed message was taken', async () => {
    const p = await partitionScripts();
    const [message] = await delivered(p, 'member-a:1', ['X']);
    const dead = await p.ctx.call(SCRIPTS.deadLetter, deadLetterInput(p, 'member-a:1', message));
    const ids = [(dead as { deadLetterId: string }).deadLetterId];
    const tags = await p.redis.hkeys(p.keys.deadLetterTags(p.topic, 0, GROUP));
    const replay = { ...p.at, ids, tags, maxReplays: 3 };

    expect(await p.ctx.call(SCRIPTS.replayDeadLetters, replay)).toEqual({ status: 'ok', replayed: ids, parked: [] });
    const taken = await p.ctx.call(SCRIPTS.takeDue, { ...p.at, token: 'member-a:1', count: 10, maxBytes: 1_048_576 });
    expect(taken.status === 'ok' && unpackEntries(taken.packed).map((entry) => entry.messageId)).toEqual([message.messageId]);

    expect(await p.ctx.call(SCRIPTS.replayDeadLetters, replay)).toEqual({ status: 'ok', replayed: [], parked: [] });
    expect(await p.redis.zcard(p.keys.delayQueue(p.topic, 0, GROUP))).toBe(0);
    expect(await p.redis.hgetall(p.keys.delayTaken(p.topic, 0, GROUP))).toEqual({ [message.id]: 'member-a:1' });
    expect(await p.redis.xlen(p.keys.deadLetters(p.topic, 0, GROUP))).toBe(0);
  });
});

describe('acknowledgements after Redis lost writes', () => {
  it('regression: an ack sent before a rollback removed the message that reused its offset; it answers stale and leaves that message pending', async () => {
    const p = await partitionScripts();
    const [x] = await delivered(p, 'member-a:1', ['X']);
    expect(x).toMatchObject({ offset: 0, messageId: 'producer-a:0:0' });

    // Redis restarts from a snapshot without X: the log starts over and offset 0 goes to Y.
    await p.redis.del(...p.keys.partitionKeys(p.topic, 0));
    expect(await p.ctx.call(SCRIPTS.createPartition, { topic: p.topic, partition: 0 })).toBe(true);
    expect(await p.produce('producer-b', ['Y'])).toMatchObject({ status: 'ok', firstOffset: 0 });
    expect(await p.own('member-a:1')).toMatchObject({ status: 'ok' });
    const [y] = await p.fetch('member-a:1');
    expect(y).toMatchObject({ id: x.id, offset: 0, messageId: 'producer-b:0:0' });

    const late = await p.ctx.call(SCRIPTS.ack, { ...p.at, token: 'member-a:1', messages: [{ id: x.id, messageId: x.messageId }] });
    expect(late).toEqual({ status: 'ok', acknowledged: 0, stale: [x.id] });
    expect(await p.pendingIds()).toEqual([y.id]);
    expect((await p.stats()).processed).toBeUndefined();

    const right = await p.ctx.call(SCRIPTS.ack, { ...p.at, token: 'member-a:1', messages: [{ id: y.id, messageId: y.messageId }] });
    expect(right).toEqual({ status: 'ok', acknowledged: 1, stale: [] });
    expect(await p.pendingIds()).toEqual([]);
    expect(await p.stats()).toMatchObject({ processed: '1' });
  });
});

describe('fencing tokens', () => {
  it('every fenced script refuses a token that is not the lease\'s, the same member\'s older acquisition included, and changes nothing', async () => {
    const p = await partitionScripts();
    const [message] = await delivered(p, 'member-a:1', ['X', 'Z']);
    // The same member acquires the partition again (after it lost it): its old worker's token is stale.
    expect(await p.own('member-a:2')).toMatchObject({ status: 'ok' });
    const leaseKey = p.keys.lease(p.topic, 0, GROUP);
    const before = { pending: await p.pendingIds(), stats: await p.stats() };

    for (const token of ['member-a:1', 'member-b:1', 'member-a']) {
      const owned = { ...p.at, token };
      const ref = { id: message.id, messageId: message.messageId };
      const calls = {
        fetch: p.ctx.call(SCRIPTS.fetch, { group: GROUP, maxBytes: 1_048_576, partitions: [{ topic: p.topic, partition: 0, token, count: 10, after: '0-0', maxBytes: 1_048_576, averageBytes: 0, recheck: false }] }),
        claim: p.ctx.call(SCRIPTS.claim, { ...owned, cursor: '0-0', count: 10, maxBytes: 1_048_576, averageBytes: 0 }),
        ack: p.ctx.call(SCRIPTS.ack, { ...owned, messages: [ref] }),
        recordFailure: p.ctx.call(SCRIPTS.recordFailure, { ...owned, ...ref, attempt: 1, error: ERROR }),
        scheduleRetry: p.ctx.call(SCRIPTS.scheduleRetry, { ...owned, messages: [{ ...ref, source: 'log', attempt: 1, delayMs: 0, error: ERROR, fields: message.fields }] }),
        takeDue: p.ctx.call(SCRIPTS.takeDue, { ...owned, count: 10, maxBytes: 1_048_576 }),
        ackDelayed: p.ctx.call(SCRIPTS.ackDelayed, { ...owned, ids: [message.id] }),
        deadLetter: p.ctx.call(SCRIPTS.deadLetter, deadLetterInput(p, token, message)),
        resetOffset: p.ctx.call(SCRIPTS.resetOffset, { topic: p.topic, partition: 0, group: GROUP, offset: 2, token, force: false }),
        renewLeases: p.ctx.call(SCRIPTS.renewLeases, { group: GROUP, leaseMs: 60_000, partitions: [{ topic: p.topic, partition: 0, token }] }),
        releaseLease: p.ctx.call(SCRIPTS.releaseLease, owned),
      };
      const replies = Object.fromEntries(await Promise.all(Object.entries(calls).map(async ([name, call]) => [name, await call] as const)));
      expect(replies, `token ${token}`).toEqual({
        fetch: [{ status: 'fenced' }],
        claim: { status: 'fenced' },
        ack: { status: 'fenced' },
        recordFailure: { status: 'fenced' },
        scheduleRetry: { status: 'fenced' },
        takeDue: { status: 'fenced' },
        ackDelayed: { status: 'fenced' },
        deadLetter: { status: 'fenced' },
        resetOffset: { status: 'fenced' },
        renewLeases: [{ renewed: false, msUntilNextDue: Infinity }],
        releaseLease: { status: 'stale' },
      });
    }

    expect(await p.redis.get(leaseKey)).toBe('member-a:2');
    expect({ pending: await p.pendingIds(), stats: await p.stats() }).toEqual(before);
    expect(await p.redis.xlen(p.keys.deadLetters(p.topic, 0, GROUP))).toBe(0);
    expect(await p.redis.zcard(p.keys.delayQueue(p.topic, 0, GROUP))).toBe(0);
    expect(await p.redis.hlen(p.keys.attempts(p.topic, 0, GROUP))).toBe(0);
    // The holder's own token still works.
    expect(await p.ctx.call(SCRIPTS.ack, { ...p.at, token: 'member-a:2', messages: [{ id: message.id, messageId: message.messageId }] })).toEqual({ status: 'ok', acknowledged: 1, stale: [] });
  });
});
