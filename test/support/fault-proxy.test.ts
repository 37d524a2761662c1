import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { uniquePrefix, waitFor } from './brook.js';
import { argumentContains, both, commandNamed, FaultProxy } from './fault-proxy.js';
import { RedisServer } from './redis-server.js';

describe('FaultProxy', () => {
  let server: RedisServer;
  let direct: Redis;
  let proxy: FaultProxy;
  let prefix: string;
  const clients: Redis[] = [];

  /** A raw client through the proxy that fails in-flight commands on a reset instead of resending them. */
  function proxied(options: RedisOptions = {}): Redis {
    const client = new Redis(proxy.url, { maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, ...options });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  }

  function closeOf(client: Redis): Promise<void> {
    return new Promise((resolve) => client.once('close', () => resolve()));
  }

  beforeAll(async () => {
    server = await RedisServer.start();
    direct = new Redis(server.url);
  });

  afterAll(async () => {
    direct.disconnect();
    await server.stop();
  });

  beforeEach(async () => {
    proxy = await FaultProxy.start({ port: server.port });
    prefix = uniquePrefix();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await proxy.stop();
  });

  it('runs a command whose reply it drops, closes the connection, and the client reconnects', async () => {
    const client = proxied();
    await client.ping();
    const key = `${prefix}:dropped`;
    const dropped = proxy.dropReplyOnce(both(commandNamed('set'), argumentContains(key)));
    const closed = closeOf(client);
    const reconnecting = new Promise((resolve) => client.once('reconnecting', resolve));

    await expect(client.set(key, 'written')).rejects.toThrow();

    expect(await dropped).toEqual({ name: 'SET', args: [Buffer.from(key), Buffer.from('written')] });
    await closed;
    await reconnecting;
    expect(await direct.get(key)).toBe('written');
    await waitFor(() => client.status === 'ready', { message: 'the client to reconnect' });
    expect(await client.get(key)).toBe('written');
  });

  it('delivers the replies of commands pipelined before the matched one and never runs the ones after it', async () => {
    const client = proxied();
    await client.ping();
    const [before, matched, after] = ['before', 'matched', 'after'].map((name) => `${prefix}:${name}`);
    const dropped = proxy.dropReplyOnce(argumentContains(matched));

    const results = await client.pipeline().set(before, '1').get(before).set(matched, '2').set(after, '3').exec();

    expect(results?.slice(0, 2)).toEqual([[null, 'OK'], [null, '1']]);
    expect(results?.[2][0]).toBeInstanceOf(Error);
    expect(results?.[3][0]).toBeInstanceOf(Error);
    expect((await dropped).name).toBe('SET');
    expect(await direct.mget(before, matched, after)).toEqual(['1', '2', null]);
    expect(proxy.seen.some((command) => command.args.some((arg) => arg.toString() === after))).toBe(false);
  });

  it('passes a 1 MB value through intact and drops the reply of a command that follows a 1 MB reply', async () => {
    const client = proxied();
    const [big, next] = [`${prefix}:big`, `${prefix}:next`];
    const value = randomBytes(1024 * 1024);
    await client.set(big, value);
    expect((await client.getBuffer(big))?.equals(value)).toBe(true);
    expect(proxy.seen.find((command) => command.name === 'SET' && command.args[0].toString() === big)?.args[1].equals(value)).toBe(true);

    const dropped = proxy.dropReplyOnce(argumentContains(next));
    const [fetched, written] = await Promise.allSettled([client.getBuffer(big), client.set(next, 'x')]);

    expect(fetched.status === 'fulfilled' && fetched.value?.equals(value)).toBe(true);
    expect(written.status).toBe('rejected');
    expect((await dropped).args[0].toString()).toBe(next);
    expect(await direct.get(next)).toBe('x');
  });

  it('sees a script as EVAL on the first call of each connection and EVALSHA after it, as ioredis sends them', async () => {
    const client = proxied();
    const key = `${prefix}:script`;
    const lua = `return KEYS[1] -- ${prefix}`;
    client.defineCommand('echoKey', { numberOfKeys: 1, lua });
    const scripted = client as Redis & { echoKey(key: string, arg: string): Promise<string> };

    expect(await scripted.echoKey(key, 'first')).toBe(key);
    expect(await scripted.echoKey(key, 'second')).toBe(key);
    const closed = closeOf(client);
    proxy.resetAll();
    await closed;
    await waitFor(() => client.status === 'ready', { message: 'the client to reconnect' });
    expect(await scripted.echoKey(key, 'third')).toBe(key);

    const calls = proxy.seen.filter(argumentContains(key));
    expect(calls.map(({ name }) => name)).toEqual(['EVAL', 'EVALSHA', 'EVAL']);
    expect(calls.map(({ args }) => args.map(String))).toEqual([
      [lua, '1', key, 'first'],
      [createHash('sha1').update(lua).digest('hex'), '1', key, 'second'],
      [lua, '1', key, 'third'],
    ]);
  });

  it('black-holes a connection so commands time out, drops what was sent meanwhile, and restore lets clients reconnect', async () => {
    const client = proxied({ commandTimeout: 200 });
    await client.ping();
    const key = `${prefix}:partitioned`;

    proxy.blackhole();
    await expect(client.set(key, 'lost')).rejects.toThrow(/timed out/i);
    const late = proxied({ commandTimeout: 200 });
    await expect(late.ping()).rejects.toThrow(/timed out/i);
    expect(proxy.connections).toBe(2);

    proxy.restore();
    await waitFor(async () => (await client.ping()) === 'PONG', { message: 'the partitioned client to reconnect' });
    await waitFor(async () => (await late.ping()) === 'PONG', { message: 'the client that connected during the partition to reconnect' });
    expect(await proxied().ping()).toBe('PONG');
    expect(await direct.get(key)).toBeNull();
  });

  it('resets every client connection on resetAll', async () => {
    const first = proxied();
    const second = proxied();
    const idsBefore = [await first.call('CLIENT', 'ID'), await second.call('CLIENT', 'ID')];
    expect(proxy.connections).toBe(2);
    const closed = [closeOf(first), closeOf(second)];

    proxy.resetAll();

    await Promise.all(closed);
    const idsAfter = [await first.call('CLIENT', 'ID'), await second.call('CLIENT', 'ID')];
    expect(idsAfter[0]).not.toBe(idsBefore[0]);
    expect(idsAfter[1]).not.toBe(idsBefore[1]);
  });

  it('delays every reply by at least the reply delay until it is set back to 0', async () => {
    const client = proxied();
    await client.ping();

    proxy.setReplyDelay(150);
    const delayedFrom = performance.now();
    expect(await client.ping()).toBe('PONG');
    expect(performance.now() - delayedFrom).toBeGreaterThanOrEqual(150);

    proxy.setReplyDelay(0);
    const promptFrom = performance.now();
    await client.ping();
    expect(performance.now() - promptFrom).toBeLessThan(150);
  });

  it('drops the reply of every match until disarmed and counts them', async () => {
    const client = proxied();
    const key = `${prefix}:counter`;
    const drops = proxy.dropReplies(both(commandNamed('INCR'), argumentContains(key)));

    for (let attempt = 0; attempt < 3; attempt++) {
      await waitFor(() => client.status === 'ready', { message: 'the client to reconnect' });
      await expect(client.incr(key)).rejects.toThrow();
    }
    await waitFor(() => drops.count() === 3, { message: 'three dropped replies' });
    expect(await direct.get(key)).toBe('3');

    drops.disarm();
    await waitFor(() => client.status === 'ready', { message: 'the client to reconnect' });
    expect(await client.incr(key)).toBe(4);
    expect(drops.count()).toBe(3);
  });
});
