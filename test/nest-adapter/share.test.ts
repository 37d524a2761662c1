import './support.js';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Brook } from '@brook/broker';
import { BrokerModule, BrookHealthIndicator, Ctx, Payload, ShareMessageContext, Subscribe, type BrokerModuleOptions } from '@brook/nest-adapter';
import { uniqueName, waitFor } from '../support/brook.js';
import { brokerOptions, startApp } from './support.js';

describe('@Subscribe share groups', () => {
  it('hands every message to one of two application instances, and a failed one again with its delivery count', async () => {
    const topic = uniqueName('orders.shipped');
    const options = brokerOptions({ topics: [{ topic, partitions: 3 }] });
    const deliveries: Array<{ instance: string; n: number; deliveryCount: number; attempt: number }> = [];
    const handled: Array<{ instance: string; n: number }> = [];

    function mailer(instance: string) {
      @Injectable()
      class Mailer {
        @Subscribe(topic, 'mailers', { share: true, concurrency: 4, acquisitionLockMs: 5_000, fromBeginning: true })
        async mail(@Payload('n') n: number, @Ctx() ctx: ShareMessageContext) {
          deliveries.push({ instance, n, deliveryCount: ctx.deliveryCount, attempt: ctx.attempt });
          await ctx.renewLock();
          await sleep(2);
          if (n === 13 && ctx.deliveryCount === 1) throw new Error('mail server busy');
          handled.push({ instance, n });
        }
      }
      return Mailer;
    }

    const first = await startApp({ providers: [mailer('first')] }, options);
    await startApp({ providers: [mailer('second')] }, options);
    await first.get(Brook).producer().send({ topic, messages: Array.from({ length: 120 }, (_, n) => ({ key: `order-${n}`, value: { n } })) });
    await waitFor(() => handled.length >= 120, { message: 'every message to be handled' });
    await sleep(200);

    expect(handled.map(({ n }) => n).sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, n) => n));
    expect(new Set(handled.map(({ instance }) => instance))).toEqual(new Set(['first', 'second']));
    expect(deliveries.filter(({ n }) => n !== 13).every(({ deliveryCount }) => deliveryCount === 1)).toBe(true);
    expect(deliveries.filter(({ n }) => n === 13).map(({ deliveryCount }) => deliveryCount)).toEqual([1, 2]);
    expect((await first.get(Brook).admin().deadLetters.list({ topic, group: 'mailers' })).items).toEqual([]);
    expect(await first.get(BrookHealthIndicator).isHealthy('brook', { maxLag: 0 })).toMatchObject({ brook: { status: 'up', consumers: ['mailers'], lag: { [`mailers/${topic}`]: 0 } } });
  });

  it('dead-letters a message at its delivery limit under the handler name', async () => {
    const topic = uniqueName('orders.shipped');
    const counts: number[] = [];

    @Injectable()
    class Mailer {
      @Subscribe(topic, 'mailers', { share: true, deliveryLimit: 2, retry: { backoff: { initialMs: 10 } }, fromBeginning: true })
      async mail(@Ctx() ctx: ShareMessageContext) {
        counts.push(ctx.deliveryCount);
        throw new Error('mailbox full');
      }
    }

    const app = await startApp({ providers: [Mailer] }, brokerOptions({ topics: [{ topic, partitions: 1 }] }));
    await app.get(Brook).producer().send({ topic, messages: [{ value: 'hello' }] });
    const admin = app.get(Brook).admin();
    const dead = await waitFor(async () => (await admin.deadLetters.list({ topic, group: 'mailers' })).items[0], { message: 'the dead letter' });
    expect(counts).toEqual([1, 2]);
    expect(dead).toMatchObject({ handler: 'Mailer.mail', attempts: 2, error: { message: 'mailbox full' } });
  });

  it('fails to start a share handler on a group name that an exclusive group uses, naming the method', async () => {
    const topic = uniqueName('orders.shipped');
    const options = brokerOptions({ topics: [{ topic, partitions: 1 }] });

    @Injectable()
    class Audit {
      @Subscribe(topic, 'mailers')
      record() {}
    }
    await startApp({ providers: [Audit] }, options);

    @Injectable()
    class Mailer {
      @Subscribe(topic, 'mailers', { share: true })
      mail() {}
    }
    const error = await bootstrapError([Mailer], options);
    expect(error.message).toMatch(/^Mailer\.mail: share group 'mailers' cannot start: Group 'mailers' is an exclusive consumer group/);
  });
});

async function bootstrapError(providers: Array<new (...args: never[]) => unknown>, options: BrokerModuleOptions): Promise<Error> {
  const moduleRef = await Test.createTestingModule({ imports: [BrokerModule.forRoot(options)], providers })
    .setLogger({ log() {}, error() {}, warn() {}, debug() {}, verbose() {}, fatal() {} })
    .compile();
  try {
    await moduleRef.init();
  } catch (error) {
    return error as Error;
  } finally {
    await moduleRef.close().catch(() => undefined);
  }
  throw new Error('bootstrap succeeded');
}
