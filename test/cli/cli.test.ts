import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createBrook, uniqueName, uniquePrefix, waitFor } from '../support/brook.js';
import { startConsumer } from '../consumer/helpers.js';
import { topicWithDeadLetters } from '../broker-host/fixtures.js';
import { startTestHost, TOKENS } from '../broker-host/host.js';
import { cli, ensureBuilt, startCli } from './run-cli.js';

beforeAll(() => ensureBuilt(), 180_000);

/** `brook` straight on the test Redis under `prefix`. */
function onRedis(prefix: string) {
  return (args: string[], options?: { stdin?: string }) => cli(['--prefix', prefix, ...args], { env: { REDIS_URL: inject('redisUrl') }, ...options });
}

describe('brook on Redis', { timeout: 90_000 }, () => {
  it('creates, lists, describes, grows and deletes topics, with tables for people and JSON for scripts', async () => {
    const brook = createBrook();
    const brookCli = onRedis(brook.options.prefix);
    const topic = uniqueName('orders');

    const created = await brookCli(['topics', 'create', topic, '--partitions', '3']);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`Created topic ${topic} with 3 partitions.`);
    expect((await brookCli(['topics', 'create', topic, '--partitions', '3', '--json'])).json()).toEqual([{ topic, created: false }]);

    const listed = await brookCli(['topics', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^TOPIC\\s+PARTITIONS\\n${topic.replace('.', '\\.')}\\s+3\\n$`));

    expect((await brookCli(['topics', 'add-partitions', topic, '--partitions', '5'])).code).toBe(0);
    const [described] = (await brookCli(['topics', 'describe', topic, '--json'])).json();
    expect(described.partitions.map((partition: { partition: number }) => partition.partition)).toEqual([0, 1, 2, 3, 4]);
    expect(await brook.admin().listTopics()).toEqual([{ topic, partitions: 5 }]);

    const conflict = await brookCli(['topics', 'create', topic, '--partitions', '2']);
    expect(conflict.code).toBe(4);
    expect(conflict.stderr).toMatch(/^brook: TOPIC_CONFLICT: /);

    expect((await brookCli(['topics', 'delete', topic])).code).toBe(0);
    const missing = await brookCli(['topics', 'describe', topic]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`UNKNOWN_TOPIC: Topic '${topic}' does not exist`);
  });

  it('produces a line per message with keys and headers, and reads them back without joining any group', async () => {
    const brook = createBrook();
    const brookCli = onRedis(brook.options.prefix);
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 2 });

    const lines = Array.from({ length: 6 }, (_, i) => `customer-${i % 3}:{"id":${i}}`).join('\n');
    const produced = await brookCli(['produce', topic, '-K', ':', '--value-format', 'json', '-H', 'source=cli', '--json'], { stdin: `${lines}\n` });
    expect(produced.code).toBe(0);
    expect(produced.json()).toHaveLength(6);
    expect(produced.stderr).toMatch(/Produced 6 messages to /);

    const read = await brookCli(['consume', topic, '--json']);
    expect(read.code).toBe(0);
    const messages = read.json();
    expect(messages).toHaveLength(6);
    // Each key's messages in the order they were produced, with the header on every one.
    for (const customer of ['customer-0', 'customer-1', 'customer-2']) {
      const ids = messages.filter((message) => message.key === customer).map((message) => message.value.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    expect(messages.every((message) => message.headers.source === 'cli')).toBe(true);

    const human = await brookCli(['consume', topic, '--partition', String(messages[0].partition), '--offset', '1', '-n', '1']);
    expect(human.stdout).toMatch(new RegExp(`^${topic.replace('.', '\\.')}/${messages[0].partition}@1 key=customer-\\d \\{"id":\\d\\}\\n$`));

    // Reading changed nothing: no group exists.
    expect(await brook.admin().listGroups()).toEqual([]);
  });

  it('stops at the first bad line: what came before is sent, nothing after, and the exit code says usage', async () => {
    const brook = createBrook();
    const brookCli = onRedis(brook.options.prefix);
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    const result = await brookCli(['produce', topic, '--value-format', 'json'], { stdin: '{"id":1}\n{"id":2}\nnot json\n{"id":4}\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Line 3 is not JSON .* The 2 messages before it were sent; nothing from line 3 on\./);
    const page = await brook.admin().readMessages({ topic, partition: 0 });
    expect(page.messages.map((message) => message.value)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('follows a topic until Ctrl-C, printing messages produced after it started', async () => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 2 });
    await brook.producer().send({ topic, messages: [{ key: 'old', value: 'before' }] });
    const following = startCli(['--prefix', brook.options.prefix, 'consume', topic, '--follow', '--json', '--poll-ms', '50'], { env: { REDIS_URL: inject('redisUrl') } });
    following.child.stdin!.end();
    // It starts at the end: produce until a message shows up, then check nothing older was printed.
    await waitFor(
      async () => {
        await brook.producer().send({ topic, messages: [{ key: 'new', value: 'after' }] });
        return following.stdout().includes('"after"');
      },
      { timeoutMs: 20_000, intervalMs: 200, message: 'the follower to print a new message' },
    );
    following.child.kill('SIGINT');
    const result = await following.done;
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('"before"');
  });

  it('consumes as a group: commits what it printed, exits once caught up, and a second run prints nothing', async () => {
    const brook = createBrook();
    const brookCli = onRedis(brook.options.prefix);
    const topic = uniqueName('orders');
    const group = uniqueName('audit');
    await brook.admin().createTopic({ topic, partitions: 3 });
    await brook.producer().send({ topic, messages: Array.from({ length: 9 }, (_, i) => ({ key: `k${i}`, value: { id: i } })) });

    const first = await brookCli(['consume', topic, '--group', group, '--from-beginning', '--json']);
    expect(first.code).toBe(0);
    expect(first.json().map((message) => message.value.id).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const description = await brook.admin().describeGroup({ group, topic });
    expect(description.partitions.every((partition) => partition.lag === 0)).toBe(true);

    const second = await brookCli(['consume', topic, '--group', group, '--json']);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('');

    const refused = await brookCli(['consume', topic, '--group', group, '--max-messages', '1']);
    expect(refused.code).toBe(2);
  });

  it('writes a long consume to a file with a progress bar on stderr', async () => {
    const brook = createBrook();
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 2 });
    await brook.producer().send({ topic, messages: Array.from({ length: 1_200 }, (_, i) => ({ key: `k${i % 7}`, value: { id: i } })) });
    const file = join(mkdtempSync(join(tmpdir(), 'brook-cli-')), 'orders.jsonl');
    const result = await onRedis(brook.options.prefix)(['consume', topic, '--json', '--output', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('1200/1200 messages');
    expect(result.stderr).toContain(`Wrote 1200 messages to ${file}.`);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1_200);
  });

  it('describes groups and resets offsets: a plan without --execute, refused while members are live, applied with --force', async () => {
    const brook = createBrook();
    const brookCli = onRedis(brook.options.prefix);
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 2 });
    await brook.producer().send({ topic, messages: Array.from({ length: 4 }, (_, i) => ({ key: `k${i}`, value: { id: i } })) });
    const billing = await startConsumer(brook, topic, { group: 'billing' });
    await waitFor(() => billing.seen.length === 4, { message: 'billing to process 4 messages' });

    const listed = await brookCli(['groups', 'list', '--json']);
    expect(listed.json()[0]).toEqual([{ group: 'billing', kind: 'exclusive', topics: [topic], members: 1, lag: 0, lagSeconds: 0 }]);
    const described = await brookCli(['groups', 'describe', 'billing']);
    expect(described.stdout).toMatch(/Group: billing \(exclusive\) {2}Topic: \S+ {2}Members: 1 {2}Lag: 0/);

    const plan = await brookCli(['groups', 'reset-offsets', 'billing', '--topic', topic, '--to-earliest', '--json']);
    expect(plan.code).toBe(0);
    expect(plan.json()[0]).toMatchObject({ dryRun: true, partitions: expect.arrayContaining([expect.objectContaining({ target: 0 })]) });
    expect((await brook.admin().describeGroup({ group: 'billing', topic })).partitions.every((partition) => partition.lag === 0)).toBe(true);

    const refused = await brookCli(['groups', 'reset-offsets', 'billing', '--topic', topic, '--to-earliest', '--execute']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('GROUP_ACTIVE');

    const applied = await brookCli(['groups', 'reset-offsets', 'billing', '--topic', topic, '--to-earliest', '--execute', '--force']);
    expect(applied.code).toBe(0);
    await waitFor(() => billing.seen.length === 8, { message: 'billing to process the 4 messages again' });

    const twoTargets = await brookCli(['groups', 'reset-offsets', 'billing', '--topic', topic, '--to-earliest', '--to-latest']);
    expect(twoTargets.code).toBe(2);
  });

  it('deletes a group, refusing while it has live members, and reads a topic from a time', async () => {
    const brook = createBrook();
    const brookCli = onRedis(brook.options.prefix);
    const topic = uniqueName('orders');
    await brook.admin().createTopic({ topic, partitions: 1 });
    await brook.producer().send({ topic, messages: [{ key: 'a', value: 'early' }] });
    const billing = await startConsumer(brook, topic, { group: 'billing' });
    await waitFor(() => billing.seen.length === 1, { message: 'billing to process the message' });
    const [listed] = (await brookCli(['groups', 'list', '--json'])).json();
    expect(listed[0]).toMatchObject({ group: 'billing', lag: 0, lagSeconds: 0 });

    const refused = await brookCli(['groups', 'delete', 'billing']);
    expect(refused.code).toBe(4);
    await billing.consumer.close();
    const deleted = await brookCli(['groups', 'delete', 'billing']);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain('Deleted group billing');
    expect(await brook.admin().listGroups()).toEqual([]);
    expect((await brookCli(['groups', 'delete', 'billing'])).code).toBe(3);

    const [{ timestamp: first }] = (await brook.admin().readMessages({ topic, partition: 0 })).messages;
    const late = await waitFor(
      async () => {
        const [record] = await brook.producer().send({ topic, messages: [{ key: 'b', value: 'late' }] });
        return record.timestamp > first ? record : undefined;
      },
      { intervalMs: 5, message: 'a message appended after the first' },
    );
    const fromTime = await brookCli(['consume', topic, '--from-time', new Date(late.timestamp).toISOString(), '--json']);
    expect(fromTime.json().map((message) => message.offset)[0]).toBe(late.offset);
    expect(fromTime.json().every((message) => message.value === 'late')).toBe(true);
  });

  it('lists, shows, dry-runs, replays, purges and audits dead letters made by a real consumer', async () => {
    const brook = createBrook();
    const brookCli = onRedis(brook.options.prefix);
    const { topic, state, billing, deadLetters } = await topicWithDeadLetters(brook, { partitions: 2, failing: 3, passing: 1 });
    const scope = ['-t', topic, '-g', 'billing'];

    const listed = await brookCli(['dlt', 'list', ...scope, '--json']);
    const letters = listed.json();
    expect(letters.map((letter) => letter.offset).sort()).toEqual(deadLetters.map((event) => event.offset).sort());
    expect((await brookCli(['dlt', 'list', ...scope])).stdout).toMatch(/^ID\s+OFFSET\s+REASON\s+ATTEMPTS\s+REPLAYS\s+ERROR\s+KEY\s+FAILED\n/);

    const shown = await brookCli(['dlt', 'show', letters[0].id, ...scope]);
    expect(shown.stdout).toContain(`Error:     Error: cannot bill order ${letters[0].message.value.id}`);
    expect(shown.stdout).toContain('"fail": true');
    expect((await brookCli(['dlt', 'show', '0-1-1', ...scope])).code).toBe(3);

    const dryRun = await brookCli(['dlt', 'replay', ...scope, '--all', '--dry-run', '--json']);
    expect(dryRun.json()[0]).toMatchObject({ dryRun: true, matched: 3 });
    // Search by key and by error text, and a dry run by filter.
    expect((await brookCli(['dlt', 'list', ...scope, '--key', 'f1', '--json'])).json().map((letter) => letter.message.key)).toEqual(['f1']);
    expect((await brookCli(['dlt', 'list', ...scope, '--error-text', 'BILL ORDER 2', '--json'])).json().map((letter) => letter.message.key)).toEqual(['f2']);
    const byFilter = await brookCli(['dlt', 'purge', ...scope, '--reason', 'handler-error', '--dry-run']);
    expect(byFilter.stdout).toContain('Would purge 3 dead letters; nothing changed');
    expect((await brookCli(['dlt', 'replay', ...scope, '--all', '--key', 'f1'])).code).toBe(2);
    expect((await brook.admin().deadLetters.count({ topic, group: 'billing' })).total).toBe(3);

    state.failing = false;
    const replayed = await brookCli(['dlt', 'replay', ...scope, '--id', letters[0].id]);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain('Replayed 1 dead letter to the group.');
    await waitFor(() => billing.seen.some((seen) => seen.offset === letters[0].offset && seen.partition === letters[0].partition), {
      message: 'billing to process the replayed message',
    });

    const purged = await brookCli(['dlt', 'purge', ...scope, '--all']);
    expect(purged.stdout).toContain('Purged 2 dead letters.');
    expect((await brookCli(['dlt', 'count', '--json'])).json()[0]).toMatchObject({ total: 0 });

    const audit = (await brookCli(['dlt', 'audit', '--json'])).json()[0];
    expect(audit.items.map((entry: { action: string }) => entry.action)).toEqual(['purge', 'replay']);
    expect(audit.items[0].actor).toMatch(/^cli:/);
  });

  it('answers a wrong command line with exit code 2 and what to do', async () => {
    const brookCli = onRedis(uniquePrefix());
    expect((await brookCli(['topics', 'list', '--bogus'])).code).toBe(2);
    expect((await brookCli(['topics', 'create', 'orders', '--partitions', 'many'])).stderr).toContain('--partitions must be an integer from 1 to 4096');
    const nowhere = await cli(['topics', 'list']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('Give --redis redis://host:6379 (or set REDIS_URL)');
    const unreachable = await cli(['--redis', 'redis://127.0.0.1:1', 'topics', 'list']);
    expect(unreachable.code).toBe(6);
    const help = await cli(['consume', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    const completion = await cli(['completion', 'bash']);
    expect(completion.stdout).toContain('complete -F _brook brook');
    expect(completion.stdout).toContain('["dlt replay"]=');
  });
});

describe('brook through a broker host', { timeout: 90_000 }, () => {
  it('does the same operations with a token, and exits 5 when the token or its role does not allow them', async () => {
    const host = await startTestHost();
    const asRole = (token: string | undefined) => (args: string[], stdin?: string) =>
      cli(args, { env: { BROOK_HOST: host.url, ...(token === undefined ? {} : { BROOK_TOKEN: token }) }, stdin });
    const admin = asRole(TOKENS.admin);
    const topic = uniqueName('orders');

    expect((await admin(['topics', 'create', topic, '--partitions', '2'])).code).toBe(0);
    const produced = await admin(['produce', topic, '--key', 'k1', '--json'], 'first\nsecond\n');
    expect(produced.code).toBe(0);
    expect(produced.json().map((record) => record.offset)).toEqual([0, 1]);
    const read = await admin(['consume', topic, '--json']);
    expect(read.json().map((message) => message.value)).toEqual(['first', 'second']);

    const viewer = asRole(TOKENS.viewer);
    expect((await viewer(['topics', 'list'])).stdout).toContain(topic);
    const forbidden = await viewer(['topics', 'delete', topic]);
    expect(forbidden.code).toBe(5);
    expect(forbidden.stderr).toContain("Use a token whose role allows this");
    const anonymous = await asRole(undefined)(['topics', 'list']);
    expect(anonymous.code).toBe(5);
    expect(anonymous.stderr).toContain('Set BROOK_TOKEN');

    expect((await admin(['topics', 'describe', uniqueName('missing')])).code).toBe(3);
    const down = await cli(['topics', 'list'], { env: { BROOK_HOST: 'http://127.0.0.1:1', BROOK_TOKEN: TOKENS.admin } });
    expect(down.code).toBe(6);
    expect(down.stderr).toContain('Cannot reach the broker host at http://127.0.0.1:1');
  });

  it('replays a dead letter through the host, audited under the token name', async () => {
    const host = await startTestHost();
    const { topic, state, billing, deadLetters } = await topicWithDeadLetters(host.brook, { partitions: 2, failing: 1, passing: 0 });
    const operator = (args: string[]) => cli(args, { env: { BROOK_HOST: host.url, BROOK_TOKEN: TOKENS.operator } });
    const [letter] = (await operator(['dlt', 'list', '-t', topic, '-g', 'billing', '--json'])).json();
    expect(letter.offset).toBe(deadLetters[0].offset);
    state.failing = false;
    expect((await operator(['dlt', 'replay', '-t', topic, '-g', 'billing', '--id', letter.id])).code).toBe(0);
    await waitFor(() => billing.seen.length === 1, { message: 'billing to process the replayed message' });
    const [audit] = (await operator(['dlt', 'audit', '--json'])).json();
    expect(audit.items[0]).toMatchObject({ actor: 'oncall', action: 'replay' });
    // Purging is for admins.
    expect((await operator(['dlt', 'purge', '-t', topic, '-g', 'billing', '--all'])).code).toBe(5);
  });
});
