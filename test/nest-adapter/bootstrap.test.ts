import './support.js';
import { Controller, Injectable, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { Brook } from '@brook/broker';
import { BrokerModule, Payload, Subscribe, SubscribeBatch, type BrokerModuleOptions } from '@brook/nest-adapter';
import { uniqueName, waitFor } from '../support/brook.js';
import { brokerOptions, startApp } from './support.js';

const silent = { log() {}, error() {}, warn() {}, debug() {}, verbose() {}, fatal() {} };

async function bootstrapError(providers: Array<new (...args: never[]) => unknown>, options: BrokerModuleOptions = brokerOptions(), controllers: Array<new (...args: never[]) => unknown> = []) {
  const moduleRef = await Test.createTestingModule({ imports: [BrokerModule.forRoot(options)], providers, controllers }).setLogger(silent).compile();
  try {
    await moduleRef.init();
  } catch (error) {
    return error as Error;
  } finally {
    await moduleRef.close().catch(() => undefined);
  }
  throw new Error('bootstrap succeeded');
}

describe('BrokerModule bootstrap', () => {
  it('fails with what to set when redis is missing, as with an unset REDIS_URL', async () => {
    const compiling = Test.createTestingModule({ imports: [BrokerModule.forRoot({ ...brokerOptions(), redis: process.env.BROOK_TEST_UNSET_URL })] })
      .setLogger(silent)
      .compile();
    await expect(compiling).rejects.toThrow(/BrokerModule needs the redis option.*set REDIS_URL/);
  });

  it('fails on an invalid topic or group name, naming class and method', async () => {
    @Injectable()
    class BadTopic {
      @Subscribe('orders/created', 'billing')
      handle() {}
    }
    expect((await bootstrapError([BadTopic])).message).toMatch(/^BadTopic\.handle: @Subscribe\("orders\/created", "billing"\): Invalid topic name/);

    @Injectable()
    class BadGroup {
      @Subscribe('orders', '__billing')
      handle() {}
    }
    expect((await bootstrapError([BadGroup])).message).toMatch(/^BadGroup\.handle: .*reserved for Brook/);
  });

  it('fails when two handlers subscribe to the same topic in the same group', async () => {
    const topic = uniqueName('orders');
    @Injectable()
    class First {
      @Subscribe(topic, 'billing')
      handle() {}
    }
    @Controller()
    class Second {
      @Subscribe(topic, 'billing')
      charge() {}
    }
    const error = await bootstrapError([First], brokerOptions({ topics: [{ topic }] }), [Second]);
    expect(error.message).toMatch(/First\.handle and Second\.charge both subscribe to '.*' in group 'billing'/);
  });

  it('fails on a request-scoped handler class', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @Subscribe('orders', 'billing')
      handle() {}
    }
    expect((await bootstrapError([PerRequest])).message).toMatch(/PerRequest\.handle has @Subscribe, but PerRequest is request- or transient-scoped/);
  });

  it('fails on an unknown option, a bad retry policy, conflicting concurrency or a missing topic', async () => {
    @Injectable()
    class Typo {
      @Subscribe('orders', 'billing', { retries: 3 } as never)
      handle() {}
    }
    expect((await bootstrapError([Typo])).message).toMatch(/Typo\.handle: unknown @Subscribe option 'retries'; the options are retry, deadLetter, ordering, concurrency, fromBeginning, share, acquisitionLockMs, deliveryLimit/);

    const topic = uniqueName('orders');
    @Injectable()
    class BadRetry {
      @Subscribe(topic, 'billing', { retry: { attempts: 0 } })
      handle() {}
    }
    expect((await bootstrapError([BadRetry], brokerOptions({ topics: [{ topic }] }))).message).toMatch(/BadRetry\.handle: .*retry\.attempts must be an integer from 1/);

    @Injectable()
    class Conflicting {
      @Subscribe('a', 'billing', { concurrency: 2 })
      one() {}
      @Subscribe('b', 'billing', { concurrency: 4 })
      two() {}
    }
    expect((await bootstrapError([Conflicting])).message).toMatch(/Conflicting\.one sets concurrency 2 and Conflicting\.two sets 4 for group 'billing'/);

    @Injectable()
    class Missing {
      @Subscribe(uniqueName('missing'), 'billing')
      handle() {}
    }
    expect((await bootstrapError([Missing])).message).toMatch(/Missing\.handle: @Subscribe\('missing\..*', 'billing'\) cannot start: Topic '.*' does not exist/);
  });

  it('fails when handlers of one group disagree on how its consumer runs, naming both methods and the option', async () => {
    @Injectable()
    class Ordering {
      @Subscribe('a', 'billing', { ordering: 'key', concurrency: 8 })
      keyed() {}
      @Subscribe('b', 'billing', { concurrency: 8 })
      unordered() {}
    }
    expect((await bootstrapError([Ordering])).message).toMatch(
      /^Ordering\.keyed sets ordering 'key' and Ordering\.unordered has 'partition' \(the default\) for group 'billing', which shares one consumer; use the same value\.$/,
    );

    @Injectable()
    class Mailers {
      @Subscribe('a', 'mailers', { share: true })
      shared() {}
    }
    @Injectable()
    class Audit {
      @Subscribe('b', 'mailers')
      exclusive() {}
    }
    expect((await bootstrapError([Mailers, Audit])).message).toMatch(
      /^Mailers\.shared sets share true and Audit\.exclusive has false \(the default\) for group 'mailers', .*a group name is either exclusive or share/,
    );

    @Injectable()
    class Locks {
      @Subscribe('a', 'mailers', { share: true, acquisitionLockMs: 10_000 })
      one() {}
      @Subscribe('b', 'mailers', { share: true, acquisitionLockMs: 20_000 })
      two() {}
    }
    expect((await bootstrapError([Locks])).message).toMatch(/^Locks\.one sets acquisitionLockMs 10000 and Locks\.two sets 20000 for group 'mailers'/);

    @Injectable()
    class Mixed {
      @SubscribeBatch('a', 'store')
      bulk() {}
      @Subscribe('b', 'store')
      single() {}
    }
    expect((await bootstrapError([Mixed])).message).toMatch(/^Mixed\.bulk is @SubscribeBatch and Mixed\.single is @Subscribe in group 'store', which shares one consumer/);
  });

  it('refuses ordering in a share group, and ordering other than partition or share in a batch handler', async () => {
    @Injectable()
    class SharedInOrder {
      @Subscribe('a', 'mailers', { share: true, ordering: 'key' })
      mail() {}
    }
    expect((await bootstrapError([SharedInOrder])).message).toMatch(/^SharedInOrder\.mail: @Subscribe \{ share: true \} takes no ordering/);

    @Injectable()
    class LockWithoutShare {
      @Subscribe('a', 'mailers', { deliveryLimit: 3 })
      mail() {}
    }
    expect((await bootstrapError([LockWithoutShare])).message).toMatch(/^LockWithoutShare\.mail: @Subscribe deliveryLimit applies to share groups only; add share: true/);

    @Injectable()
    class KeyedBatch {
      @SubscribeBatch('a', 'store', { ordering: 'key' } as never)
      store() {}
    }
    expect((await bootstrapError([KeyedBatch])).message).toMatch(/^KeyedBatch\.store: @SubscribeBatch takes ordering: 'partition' only .* use @Subscribe with ordering: 'key'/);

    @Injectable()
    class SharedBatch {
      @SubscribeBatch('a', 'store', { share: true } as never)
      store() {}
    }
    expect((await bootstrapError([SharedBatch])).message).toMatch(/^SharedBatch\.store: @SubscribeBatch cannot consume as a share group \(it sets share\)/);

    @Injectable()
    class BatchTypo {
      @SubscribeBatch('a', 'store', { maxBatchSize: 10 } as never)
      store() {}
    }
    expect((await bootstrapError([BatchTypo])).message).toMatch(/^BatchTypo\.store: unknown @SubscribeBatch option 'maxBatchSize'; the options are /);

    @Injectable()
    class BadConcurrency {
      @Subscribe('a', 'billing', { ordering: 'none', concurrency: 0 })
      handle() {}
    }
    expect((await bootstrapError([BadConcurrency])).message).toMatch(/^BadConcurrency\.handle: @Subscribe concurrency must be an integer from 1 to 10000; got 0/);
  });

  it('fails when a declared topic conflicts with the existing one', async () => {
    const topic = uniqueName('orders');
    const options = brokerOptions({ topics: [{ topic, partitions: 2 }] });
    await startApp({}, options);
    const error = await bootstrapError([], { ...options, topics: [{ topic, partitions: 3 }] });
    expect(error.message).toMatch(/already exists with 2 partition/);
  });

  it('takes its options from other providers with forRootAsync', async () => {
    const topic = uniqueName('orders');
    const seen: unknown[] = [];

    @Injectable()
    class Settings {
      readonly options = brokerOptions({ topics: [{ topic }] });
    }
    @Module({ providers: [Settings], exports: [Settings] })
    class SettingsModule {}

    @Injectable()
    class Billing {
      @Subscribe(topic, 'billing', { fromBeginning: true })
      handle(@Payload() value: unknown) {
        seen.push(value);
      }
    }

    const moduleRef = await Test.createTestingModule({
      imports: [BrokerModule.forRootAsync({ imports: [SettingsModule], inject: [Settings], useFactory: (settings: Settings) => settings.options })],
      providers: [Billing],
    })
      .setLogger(silent)
      .compile();
    await moduleRef.init();
    try {
      await moduleRef.get(Brook).producer().send({ topic, messages: [{ value: 'hello' }] });
      await waitFor(() => seen.length === 1);
      expect(seen).toEqual(['hello']);
    } finally {
      await moduleRef.close();
    }
  });
});
