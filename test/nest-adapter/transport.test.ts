import './support.js';
import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, RpcException } from '@nestjs/microservices';
import { setTimeout as sleep } from 'node:timers/promises';
import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NonRetriableError, UnknownTopicError } from '@brook/broker';
import { Ctx, Payload } from '@brook/nest-adapter';
import { BrookClient, BrookContext, BrookServer, ReplyTimeoutError } from '@brook/nest-adapter/microservices';
import { uniqueName, waitFor } from '../support/brook.js';
import { startMicroservice, transportScope } from './transport-support.js';

// @EventPattern<string>(…): with a string type argument @nestjs/microservices 12 types the handler
// loosely; its typed-events overload would type the @Ctx() parameter as unknown.

interface Order {
  orderId: string;
  amount: number;
}

describe('BrookServer and BrookClient (the @nestjs/microservices transport)', () => {
  it('delivers emit() to an @EventPattern handler with the payload and a BrookContext', async () => {
    const scope = transportScope();
    const topic = uniqueName('orders.created');
    const seen: Array<{ order: Order; context: BrookContext }> = [];

    @Controller()
    class Billing {
      @EventPattern<string>(topic)
      charge(@Payload() order: Order, @Ctx() context: BrookContext) {
        seen.push({ order, context });
      }
    }

    await startMicroservice([Billing], scope.server({ group: 'billing', topics: [{ topic, partitions: 3 }] }));
    const client = scope.client();
    const [meta] = await lastValueFrom(client.emit(topic, { key: 'customer-7', value: { orderId: 'o-1', amount: 12 }, headers: { source: 'api' } }));
    await lastValueFrom(client.emit(topic, { orderId: 'o-2', amount: 5 }));

    await waitFor(() => seen.length === 2, { message: 'both events' });
    const first = seen.find(({ order }) => order.orderId === 'o-1')!;
    expect(first.order).toEqual({ orderId: 'o-1', amount: 12 });
    const { context } = first;
    expect(context).toBeInstanceOf(BrookContext);
    expect([context.getTopic(), context.getPartition(), context.getOffset(), context.getKey()]).toEqual([topic, meta.partition, meta.offset, 'customer-7']);
    expect(context.getHeaders()).toEqual({ source: 'api' });
    expect(context.getConsumerGroup()).toBe('billing');
    expect(context.getAttempt()).toBe(1);
    expect(context.getMessage()).toMatchObject({ offset: meta.offset, key: 'customer-7', value: { orderId: 'o-1', amount: 12 } });
    expect(context.getArgs()).toEqual([context.getMessage(), meta.partition, topic, 'billing']);
    expect(seen.find(({ order }) => order.orderId === 'o-2')!.context.getKey()).toBeNull();
  });

  it('answers send() from a @MessagePattern handler over the client reply topic: a value, a promise, a stream', async () => {
    const scope = transportScope();
    const [sum, quote, count] = [uniqueName('math.sum'), uniqueName('prices.quote'), uniqueName('math.count')];

    @Controller()
    class Maths {
      @MessagePattern(sum)
      sum(@Payload() numbers: number[]) {
        return numbers.reduce((total, n) => total + n, 0);
      }

      @MessagePattern(quote)
      async quote(@Payload('items') items: number, @Ctx() context: BrookContext) {
        await sleep(1);
        return { total: items * 3, correlationId: context.getCorrelationId(), replyTopic: context.getReplyTopic() };
      }

      @MessagePattern(count)
      count(@Payload() upTo: number) {
        return of(...Array.from({ length: upTo }, (_, i) => i + 1));
      }
    }

    const topics = [sum, quote, count].map((topic) => ({ topic, partitions: 2 }));
    await startMicroservice([Maths], scope.server({ group: 'maths', topics }));
    const client = scope.client({ requestTimeoutMs: 20_000 });

    expect(await lastValueFrom(client.send(sum, [1, 2, 3, 4]))).toBe(10);
    const replyTopic = await client.replyTopic();
    const answer = await lastValueFrom(client.send(quote, { key: 'cart-1', value: { items: 4 } }));
    expect(answer).toMatchObject({ total: 12, replyTopic });
    expect(answer.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await lastValueFrom(client.send(count, 3).pipe(toArray()))).toEqual([1, 2, 3]);
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => lastValueFrom(client.send(sum, [i, 1]))));
    expect(many).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await client.replyTopic()).toBe(replyTopic);
  });

  it('fails send() with ReplyTimeoutError when no server answers, and with UnknownTopicError for a missing topic', async () => {
    const scope = transportScope();
    const topic = uniqueName('nobody.listens');
    await scope.brook.admin().createTopic({ topic, partitions: 1 });
    const client = scope.client({ requestTimeoutMs: 1_000 });

    const started = Date.now();
    const error = await lastValueFrom(client.send(topic, { hello: 'anyone' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReplyTimeoutError);
    expect((error as ReplyTimeoutError).message).toMatch(/No reply to the request sent to 'nobody\.listens\.[0-9a-f]+' within 1000 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);

    await expect(lastValueFrom(client.send(uniqueName('missing'), 1))).rejects.toBeInstanceOf(UnknownTopicError);
  });

  it('fails send() with what the @MessagePattern handler threw, as the RPC exception filters made it, and does not retry the request', async () => {
    const scope = transportScope();
    const topic = uniqueName('stock.reserve');
    let calls = 0;

    @Controller()
    class Stock {
      @MessagePattern(topic)
      reserve(@Payload() sku: string) {
        calls++;
        if (sku === 'gone') throw new RpcException({ code: 'OUT_OF_STOCK', message: `${sku} is out of stock` });
        if (sku === 'text') throw new RpcException('plain text reason');
        throw new Error('database is down');
      }
    }

    await startMicroservice([Stock], scope.server({ group: 'stock', topics: [{ topic, partitions: 1 }] }));
    const client = scope.client({ requestTimeoutMs: 20_000 });

    await expect(lastValueFrom(client.send(topic, 'gone'))).rejects.toEqual({ code: 'OUT_OF_STOCK', message: 'gone is out of stock' });
    await expect(lastValueFrom(client.send(topic, 'text'))).rejects.toEqual({ status: 'error', message: 'plain text reason' });
    // Nest's default filter hides unknown errors from callers, whatever the transport.
    await expect(lastValueFrom(client.send(topic, 'boom'))).rejects.toEqual({ status: 'error', message: 'Internal server error' });
    expect(calls).toBe(3);
    const [dead] = (await scope.brook.admin().deadLetters.list({ topic, group: 'stock' })).items;
    expect(dead).toBeUndefined();
  });

  it('retries a failing @EventPattern handler and then dead-letters the message; a NonRetriableError goes at once', async () => {
    const scope = transportScope();
    const [flaky, broken, hopeless] = [uniqueName('flaky'), uniqueName('broken'), uniqueName('hopeless')];
    const attempts = new Map<string, number[]>();
    const record = (topic: string, context: BrookContext) => attempts.set(topic, [...(attempts.get(topic) ?? []), context.getAttempt()]);

    @Controller()
    class Handlers {
      @EventPattern<string>(flaky)
      flaky(@Ctx() context: BrookContext) {
        record(flaky, context);
        if (context.getAttempt() < 3) throw new Error('try again');
      }

      @EventPattern<string>(broken, { retry: { attempts: 2 } })
      broken(@Ctx() context: BrookContext) {
        record(broken, context);
        throw new Error('always fails');
      }

      @EventPattern<string>(hopeless)
      hopeless(@Ctx() context: BrookContext) {
        record(hopeless, context);
        // Wrapped, the error passes Nest's RPC exception filter as it is, so its class decides.
        throw new RpcException(new NonRetriableError('order 17 is malformed'));
      }
    }

    const topics = [flaky, broken, hopeless].map((topic) => ({ topic, partitions: 1 }));
    await startMicroservice([Handlers], scope.server({ group: 'handlers', topics }));
    const client = scope.client();
    for (const topic of [flaky, broken, hopeless]) await lastValueFrom(client.emit(topic, { key: 'k', value: { n: 1 } }));

    const deadLetters = scope.brook.admin().deadLetters;
    const brokenDead = await waitFor(async () => (await deadLetters.list({ topic: broken, group: 'handlers' })).items[0], { message: 'the dead letter of broken' });
    expect(brokenDead).toMatchObject({ reason: 'handler-error', attempts: 2, handler: `@EventPattern("${broken}")`, message: { key: 'k', value: { n: 1 } } });
    // Nest's default filter turned the Error into { status, message } before Brook saw it.
    expect(brokenDead.error).toMatchObject({ name: 'RpcHandlerError', message: 'Internal server error' });
    const hopelessDead = await waitFor(async () => (await deadLetters.list({ topic: hopeless, group: 'handlers' })).items[0], { message: 'the dead letter of hopeless' });
    expect(hopelessDead).toMatchObject({ reason: 'non-retriable', attempts: 1, error: { name: 'NonRetriableError', message: 'order 17 is malformed' } });
    await waitFor(() => attempts.get(flaky)?.length === 3, { message: 'three attempts of flaky' });

    expect(attempts.get(flaky)).toEqual([1, 2, 3]);
    expect(attempts.get(broken)).toEqual([1, 2]);
    expect(attempts.get(hopeless)).toEqual([1]);
    expect((await deadLetters.list({ topic: flaky, group: 'handlers' })).items).toEqual([]);
  });

  it("keeps each key's events in order with @EventPattern(topic, { ordering: 'key', concurrency }) while keys run side by side", async () => {
    const scope = transportScope();
    const topic = uniqueName('payments');
    const seen = new Map<string, number[]>();
    const busy = new Set<string>();
    let inFlight = 0;
    let maxInFlight = 0;
    let sameKeyOverlaps = 0;

    @Controller()
    class Payments {
      @EventPattern<string>(topic, { ordering: 'key', concurrency: 8 })
      async pay(@Payload('n') n: number, @Ctx() context: BrookContext) {
        const key = context.getKey()!;
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        if (busy.has(key)) sameKeyOverlaps++;
        busy.add(key);
        await sleep(5);
        seen.set(key, [...(seen.get(key) ?? []), n]);
        busy.delete(key);
        inFlight--;
      }
    }

    await startMicroservice([Payments], scope.server({ group: 'payments', topics: [{ topic, partitions: 1 }] }));
    const client = scope.client();
    const keys = Array.from({ length: 8 }, (_, i) => `account-${i}`);
    const sent = await Promise.all(Array.from({ length: 96 }, (_, n) => lastValueFrom(client.emit(topic, { key: keys[n % keys.length], value: { n } }))));
    const offsetOf = (n: number) => sent[n][0].offset;

    await waitFor(() => [...seen.values()].reduce((total, list) => total + list.length, 0) === 96, { timeoutMs: 30_000, message: 'all 96 events' });
    expect(sameKeyOverlaps).toBe(0);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(8);
    for (const [i, key] of keys.entries()) {
      const received = seen.get(key)!;
      expect([...received].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, j) => i + j * keys.length));
      // Each key's events arrive in the order of their offsets.
      expect(received.map(offsetOf)).toEqual([...received.map(offsetOf)].sort((a, b) => a - b));
    }
  });

  it('deletes the reply topic of each client instance on close(), and refuses requests afterwards', async () => {
    const scope = transportScope();
    const topic = uniqueName('echo');

    @Controller()
    class Echo {
      @MessagePattern(topic)
      echo(@Payload() value: unknown) {
        return value;
      }
    }

    await startMicroservice([Echo], scope.server({ group: 'echo', topics: [{ topic, partitions: 1 }] }));
    const [one, two] = [scope.client({ requestTimeoutMs: 20_000 }), scope.client({ requestTimeoutMs: 20_000 })];
    expect(await lastValueFrom(one.send(topic, 'a'))).toBe('a');
    expect(await lastValueFrom(two.send(topic, 'b'))).toBe('b');
    const [oneTopic, twoTopic] = [await one.replyTopic(), await two.replyTopic()];
    expect(oneTopic).toMatch(/^transport-client\.replies\.[0-9a-f-]{36}$/);
    expect(twoTopic).not.toBe(oneTopic);
    const admin = scope.brook.admin();
    const topicNames = async () => (await admin.listTopics()).map(({ topic: name }) => name);
    expect(await topicNames()).toEqual(expect.arrayContaining([oneTopic, twoTopic]));

    await one.close();
    expect(await topicNames()).not.toContain(oneTopic);
    expect(await topicNames()).toContain(twoTopic);
    const redis = (await import('../support/brook.js')).rawRedis();
    const leftovers = await redis.keys(`${scope.prefix}:*${oneTopic}*`);
    expect(leftovers).toEqual([]);
    await expect(lastValueFrom(one.send(topic, 'late'))).rejects.toMatchObject({ code: 'CLOSED' });
    expect(await lastValueFrom(two.send(topic, 'c'))).toBe('c');
  });
});

describe('BrookServer and BrookClient refuse a wrong setup', () => {
  it('names the missing or doubled connection, an invalid group, and a bad requestTimeoutMs', () => {
    const scope = transportScope();
    expect(() => new BrookServer({ group: 'billing' })).toThrow(/new BrookServer\(\) needs the redis option .* or a Brook client as brook/);
    expect(() => new BrookServer({ redis: 'redis://127.0.0.1:1', brook: scope.brook, group: 'billing' })).toThrow(/takes redis or brook, not both/);
    expect(() => new BrookServer({ redis: 'redis://127.0.0.1:1', group: 'bad group' })).toThrow(InvalidArgumentError);
    expect(() => new BrookClient({ brook: scope.brook, requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs .* must be an integer from 1 to 3600000 \(ms\); got 0/);
  });

  it('fails to start on an unknown @EventPattern option or a share group, naming the pattern', async () => {
    const scope = transportScope();
    const topic = uniqueName('orders');

    @Controller()
    class Typo {
      @EventPattern<string>(topic, { retries: 3 })
      handle() {}
    }

    @Controller()
    class Share {
      @EventPattern<string>(topic, { share: true })
      handle() {}
    }

    const topics = [{ topic, partitions: 1 }];
    await expect(startMicroservice([Typo], scope.server({ group: 'g', topics }))).rejects.toThrow(
      new RegExp(`@EventPattern\\("${topic.replace('.', '\\.')}"\\): unknown @EventPattern option 'retries'; the options are retry, deadLetter`),
    );
    await expect(startMicroservice([Share], scope.server({ group: 'g', topics }))).rejects.toThrow(/runs exclusive consumer groups; for a share group use @Subscribe\(topic, group, \{ share: true \}\)/);
  });
});
