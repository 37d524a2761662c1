import { Injectable } from '@nestjs/common';
import { NonRetriableError } from '@brook/broker';
import { Payload, Producer, Subscribe } from '@brook/nest-adapter';
import { TOPICS } from '../config.js';
import type { Order } from '../store/order.js';
import { OrderStore } from '../store/order-store.js';

/**
 * Reserves stock; an order that cannot be served goes to the inventory group's dead letters until
 * restocked and replayed. Keyed by customer like payments: one customer's orders reserve in order,
 * different customers' side by side.
 */
@Injectable()
export class InventoryHandler {
  constructor(private readonly store: OrderStore) {}

  @Subscribe(TOPICS.ordersCreated, 'inventory', { ordering: 'key', concurrency: 64 })
  async reserve(@Payload() order: Order): Promise<void> {
    if ((await this.store.paymentOf(order.orderId)) === 'declined') return;
    const outcome = await this.store.reserve(order.orderId, order.items);
    if (outcome !== 'reserved') throw new NonRetriableError(`out of stock: ${outcome} for order ${order.orderId}`);
    await this.reserved(order.orderId);
  }

  @Producer(TOPICS.inventoryReserved, { key: (event: { orderId: string }) => event.orderId })
  async reserved(orderId: string) {
    return { orderId, reservedAt: Date.now() };
  }
}
