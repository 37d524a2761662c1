import './support.js';
import { Controller, Injectable } from '@nestjs/common';
// Payload and Ctx come from @nestjs/microservices here (transport.test.ts takes Brook's): both
// packages record the same parameter metadata, so either serves @Subscribe and @EventPattern alike.
import { Ctx, EventPattern, MessagePattern, Payload, type MicroserviceOptions } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Brook } from '@brook/broker';
import { BrokerModule, InjectProducer, MessageContext, Subscribe, type Producer } from '@brook/nest-adapter';
import { BrookServer, type BrookContext } from '@brook/nest-adapter/microservices';
import { uniqueName, waitFor } from '../support/brook.js';
import { brokerOptions } from './support.js';
import { closeAfterTest, SILENT, transportScope } from './transport-support.js';

describe('BrookServer in a hybrid application with BrokerModule', () => {
  it('runs @EventPattern, @MessagePattern and @Subscribe handlers side by side on one Brook client', async () => {
    const scope = transportScope();
    const [created, billed, lookup] = [uniqueName('orders.created'), uniqueName('orders.billed'), uniqueName('orders.lookup')];
    const log: string[] = [];

    @Controller()
    class Orders {
      constructor(@InjectProducer() private readonly producer: Producer) {}

      @EventPattern<string>(created)
      async bill(@Payload() order: { id: string }, @Ctx() context: BrookContext) {
        log.push(`event ${order.id} in ${context.getConsumerGroup()}`);
        await this.producer.send({ topic: billed, messages: [{ key: order.id, value: { id: order.id, billed: true } }] });
      }

      @MessagePattern(lookup)
      find(@Payload('id') id: string) {
        return { id, status: log.some((line) => line.startsWith(`subscribe ${id}`)) ? 'billed' : 'pending' };
      }
    }

    @Injectable()
    class Mailer {
      @Subscribe(billed, 'mailer', { fromBeginning: true })
      mail(@Payload() order: { id: string; billed: boolean }, @Ctx() context: MessageContext) {
        log.push(`subscribe ${order.id} billed=${order.billed} @${context.offset}`);
      }
    }

    const options = brokerOptions({ prefix: scope.prefix, topics: [created, billed, lookup].map((topic) => ({ topic, partitions: 2 })) });
    const moduleRef = await Test.createTestingModule({ imports: [BrokerModule.forRoot(options)], controllers: [Orders], providers: [Mailer] })
      .setLogger(SILENT)
      .compile();
    const app = moduleRef.createNestApplication({ logger: SILENT });
    closeAfterTest(app);
    // The transport shares the module's Brook client (and its connections).
    app.connectMicroservice<MicroserviceOptions>({ strategy: new BrookServer({ brook: app.get(Brook), group: 'orders', consumer: options.consumer }) });
    // init() first: BrokerModule creates the topics at module init, before the server subscribes to them.
    await app.init();
    await app.startAllMicroservices();

    const client = scope.client({ requestTimeoutMs: 20_000 });
    expect(await lastValueFrom(client.send(lookup, { id: 'o-1' }))).toEqual({ id: 'o-1', status: 'pending' });
    await lastValueFrom(client.emit(created, { key: 'o-1', value: { id: 'o-1' } }));
    await waitFor(() => log.some((line) => line.startsWith('subscribe o-1')), { message: 'the @Subscribe handler' });
    expect(log).toEqual(['event o-1 in orders', expect.stringMatching(/^subscribe o-1 billed=true @0$/)]);
    expect(await lastValueFrom(client.send(lookup, { id: 'o-1' }))).toEqual({ id: 'o-1', status: 'billed' });
  });
});
