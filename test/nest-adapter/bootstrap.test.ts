import './support.js';
import { Controller, Injectable, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { Brook } from '@brook/broker';
import { BrokerModule, Payload, Subscribe, type BrokerModuleOptions } from '@brook/nest-adapter';
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
    expect((await bootstrapError([Typo])).message).toMatch(/Typo\.handle: unknown @Subscribe option 'retries'; the options are retry, deadLetter, concurrency, fromBeginning/);

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
