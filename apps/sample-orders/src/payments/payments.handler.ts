import { Injectable } from '@nestjs/common';
import { NonRetriableError } from '@brook/broker';
import { Ctx, MessageContext, Payload, Producer, Subscribe } from '@brook/nest-adapter';
import { TOPICS } from '../config.js';
import { CARDS, type Order } from '../store/order.js';
import { OrderStore } from '../store/order-store.js';

/**
 * Charges orders. A declined card cannot succeed on retry; the flaky gateway does, on the third try.
 * Orders are keyed by customer: `ordering: 'key'` charges one customer's orders in the order they
 * were placed and different customers' side by side, up to 64 at once.
 */
@Injectable()
export class PaymentsHandler {
  constructor(private readonly store: OrderStore) {}

  @Subscribe(TOPICS.ordersCreated, 'payments', {
    ordering: 'key',
    concurrency: 64,
    retry: { attempts: 4, mode: 'non-blocking', backoff: { type: 'fixed', initialMs: 200 } },
  })
  async charge(@Payload() order: Order, @Ctx() ctx: MessageContext): Promise<void> {
    if (order.card === CARDS.declined) {
      await this.store.setPayment(order.orderId, 'declined');
      throw new NonRetriableError(`card declined for order ${order.orderId}`);
    }
    if (order.card === CARDS.flaky && ctx.attempt < 3) {
      await this.store.setPayment(order.orderId, 'retrying');
      throw new Error(`payment gateway timed out (attempt ${ctx.attempt})`);
    }
    await this.store.setPayment(order.orderId, 'paid');
    await this.completed(order.orderId);
  }

  @Producer(TOPICS.paymentsCompleted, { key: (event: { orderId: string }) => event.orderId })
  async completed(orderId: string) {
    return { orderId, paidAt: Date.now() };
  }
}
