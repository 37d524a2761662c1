import './support.js';
import { Injectable } from '@nestjs/common';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Brook, type Message, type ProducerRecord, type ReceivedMessage } from '@brook/broker';
import { BatchContext, Ctx, MessageContext, Payload, ShareMessageContext, Subscribe, SubscribeBatch } from '@brook/nest-adapter';
import { uniqueName, waitFor } from '../support/brook.js';
import { brokerOptions, startApp } from './support.js';

// The assertions on types in this file are checked by `npm run typecheck` (tsc over test/), and
// every @ts-expect-error fails that check if the line it marks compiles.

interface OrderCreated {
  orderId: string;
  amount: number;
}

describe('typed payloads', () => {
  it('types the value and the key of a message where the handler says so', async () => {
    const topic = uniqueName('orders');
    const seen: Array<{ order: OrderCreated; key: string | null; value: OrderCreated }> = [];

    @Injectable()
    class Billing {
      @Subscribe<OrderCreated>(topic, 'billing')
      async charge(@Payload() order: OrderCreated, @Ctx() ctx: MessageContext<OrderCreated>) {
        const message = ctx.getMessage();
        expectTypeOf(message).toEqualTypeOf<ReceivedMessage<OrderCreated>>();
        expectTypeOf(message.value).toEqualTypeOf<OrderCreated>();
        expectTypeOf(message.value.amount).toBeNumber();
        expectTypeOf(ctx.key).toEqualTypeOf<string | null>();
        expectTypeOf(message.key).toEqualTypeOf<string | null>();
        seen.push({ order, key: ctx.key, value: message.value });
      }
    }

    const app = await startApp({ providers: [Billing] }, brokerOptions({ topics: [{ topic, partitions: 1 }] }));
    const producer = app.get(Brook).producer();
    await producer.send<OrderCreated>({ topic, messages: [{ key: 'customer-1', value: { orderId: 'o-1', amount: 5 } }, { value: { orderId: 'o-2', amount: 7 } }] });
    await producer.close();
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([
      { order: { orderId: 'o-1', amount: 5 }, key: 'customer-1', value: { orderId: 'o-1', amount: 5 } },
      { order: { orderId: 'o-2', amount: 7 }, key: null, value: { orderId: 'o-2', amount: 7 } },
    ]);
  });

  it('refuses at compile time a handler, or a send, whose types disagree with the declared payload', () => {
    class Handlers {
      @Subscribe<OrderCreated>('orders', 'billing')
      payloadOnly(order: OrderCreated) {
        return order.orderId;
      }

      @Subscribe<OrderCreated>('orders', 'mailers', { share: true })
      shared(order: OrderCreated, ctx: ShareMessageContext<OrderCreated>) {
        return [order, ctx.deliveryCount];
      }

      // A wider parameter type is fine: the handler accepts every OrderCreated.
      @Subscribe<OrderCreated>('orders', 'audit')
      audit(order: { orderId: string }) {
        return order;
      }

      @SubscribeBatch<OrderCreated>('orders', 'store')
      store(orders: OrderCreated[], ctx: BatchContext<OrderCreated>) {
        expectTypeOf(ctx.messages[0].value).toEqualTypeOf<OrderCreated>();
        return orders.length;
      }

      // @ts-expect-error the payload is an OrderCreated, not a string
      @Subscribe<OrderCreated>('orders', 'wrong')
      wrongPayload(order: string) {
        return order;
      }

      // @ts-expect-error the context carries an OrderCreated, not a number
      @Subscribe<OrderCreated>('orders', 'wrong-context')
      wrongContext(order: OrderCreated, ctx: MessageContext<number>) {
        return [order, ctx];
      }

      // @ts-expect-error a batch handler takes an array
      @SubscribeBatch<OrderCreated>('orders', 'wrong-batch')
      wrongBatch(order: OrderCreated) {
        return order;
      }

      // Without a type argument any signature is accepted, as before.
      @Subscribe('orders', 'untyped')
      untyped(value: unknown, whatever: number) {
        return [value, whatever];
      }
    }

    const record: ProducerRecord<OrderCreated> = { topic: 'orders', messages: [{ value: { orderId: 'o-1', amount: 1 } }] };
    expectTypeOf(record.messages[0]).toEqualTypeOf<Message<OrderCreated>>();
    // @ts-expect-error amount is a number
    const wrong: Message<OrderCreated> = { value: { orderId: 'o-1', amount: '1' } };
    expect([Handlers, wrong]).toHaveLength(2);
  });
});
