import 'reflect-metadata';
import { Body, Controller, HttpCode, Injectable, Param, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Brook, NonRetriableError, type Producer as BrookProducer } from '@brook/broker';
import { BrokerModule, BrookErrorsFilter, InjectProducer, Payload, Subscribe } from '@brook/nest-adapter';
import { Module } from '@nestjs/common';
import { uniqueName, waitFor } from '../support/brook.js';
import { RedisServer } from '../support/redis-server.js';
import { brokerOptions } from './support.js';

const apps: INestApplication[] = [];
const servers: RedisServer[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close().catch(() => undefined);
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

const quiet = { log() {}, error() {}, warn() {}, debug() {}, verbose() {}, fatal() {} };

/** A real HTTP app whose controller publishes what it is posted, with the filter installed globally. */
async function startHttpApp(options = brokerOptions(), topics: string[] = []) {
  const consumed: string[] = [];
  const group = uniqueName('mailers');

  @Controller('publish')
  class PublishController {
    constructor(@InjectProducer() private readonly producer: BrookProducer) {}

    @Post(':topic')
    @HttpCode(202)
    async publish(@Param('topic') topic: string, @Body() body: { text: string }) {
      const [landed] = await this.producer.send({ topic, messages: [{ value: body }] });
      return landed;
    }
  }

  @Injectable()
  class Mailer {
    @Subscribe(topics[0] ?? uniqueName('unused'), group, { retry: { attempts: 3 } })
    async mail(@Payload() value: { text: string }) {
      consumed.push(value.text);
      throw new NonRetriableError('the address bounced');
    }
  }

  @Module({ imports: [BrokerModule.forRoot({ ...options, topics: topics.map((topic) => ({ topic, partitions: 1 })) })], controllers: [PublishController], providers: topics.length > 0 ? [Mailer] : [] })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: quiet });
  app.useGlobalFilters(new BrookErrorsFilter());
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const post = async (topic: string, body: unknown) => {
    const response = await fetch(`http://127.0.0.1:${address.port}/publish/${encodeURIComponent(topic)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Record<string, unknown> };
  };
  return { app, post, consumed, group };
}

describe('BrookErrorsFilter', () => {
  it('answers a publish that Brook refuses with the status the broker host uses: 413, 404, 400', async () => {
    const topic = uniqueName('mail');
    const { post } = await startHttpApp(brokerOptions({ producer: { maxMessageBytes: 1_024 } }), [topic]);

    expect(await post(topic, { text: 'hello' })).toMatchObject({ status: 202, body: { topic, partition: 0, offset: 0 } });
    expect(await post(topic, { text: 'x'.repeat(2_000) })).toMatchObject({
      status: 413,
      retryAfter: null,
      body: { statusCode: 413, error: 'Payload Too Large', code: 'MESSAGE_TOO_LARGE', message: expect.stringContaining('maxMessageBytes of 1024') },
    });
    expect(await post(uniqueName('nowhere'), { text: 'hello' })).toMatchObject({ status: 404, body: { statusCode: 404, error: 'Not Found', code: 'UNKNOWN_TOPIC' } });
    expect(await post('__reserved', { text: 'hello' })).toMatchObject({ status: 400, body: { statusCode: 400, error: 'Bad Request', code: 'INVALID_NAME' } });
  });

  it('answers 503 with Retry-After while Redis is down, and publishes again once it is back', async () => {
    const server = await RedisServer.start();
    servers.push(server);
    const topic = uniqueName('mail');
    const { post } = await startHttpApp(brokerOptions({ redis: server.url, producer: { deliveryTimeoutMs: 500 } }), [topic]);
    expect((await post(topic, { text: 'first' })).status).toBe(202);

    await server.shutdown();
    expect(await post(topic, { text: 'during' })).toMatchObject({
      status: 503,
      retryAfter: '5',
      body: { statusCode: 503, error: 'Service Unavailable', code: 'DELIVERY_TIMEOUT' },
    });
    await server.restart();
    await waitFor(async () => (await post(topic, { text: 'after' })).status === 202, { timeoutMs: 20_000 });
  }, 60_000);

  it('leaves errors of @Subscribe handlers to Brook: a NonRetriableError is still dead-lettered at once', async () => {
    const topic = uniqueName('mail');
    const { app, post, consumed, group } = await startHttpApp(brokerOptions(), [topic]);
    expect((await post(topic, { text: 'bounce' })).status).toBe(202);
    const brook = app.get(Brook);
    const deadLetters = await waitFor(async () => {
      const page = await brook.admin().deadLetters.list({ topic, group });
      return page.items.length > 0 ? page.items : undefined;
    });
    expect(deadLetters[0]).toMatchObject({ reason: 'non-retriable', attempts: 1 });
    expect(consumed).toEqual(['bounce']);
  });
});
