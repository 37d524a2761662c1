import { Injectable } from '@nestjs/common';
import { Payload, Producer, Subscribe } from '@brook/nest-adapter';
import { TOPICS } from '../config.js';
import { OrderStore } from '../store/order-store.js';

/**
 * Ships an order once it is both paid and reserved, whichever event comes last; the store lets
 * exactly one of the two handlers claim the shipment. Both topics are keyed by order, so with
 * `ordering: 'key'` each order's events stay in order while different orders ship side by side.
 * The shipment is recorded in the store in bulk by `ShipmentsHandler`.
 */
@Injectable()
export class ShippingHandler {
  constructor(private readonly store: OrderStore) {}

  @Subscribe(TOPICS.paymentsCompleted, 'shipping', { ordering: 'key', concurrency: 64 })
  async paid(@Payload('orderId') orderId: string): Promise<void> {
    await this.shipIfReady(orderId, TOPICS.paymentsCompleted);
  }

  @Subscribe(TOPICS.inventoryReserved, 'shipping', { ordering: 'key', concurrency: 64 })
  async reserved(@Payload('orderId') orderId: string): Promise<void> {
    await this.shipIfReady(orderId, TOPICS.inventoryReserved);
  }

  private async shipIfReady(orderId: string, event: string): Promise<void> {
    if (!(await this.store.claimShipment(orderId, event))) return;
    await this.ship(orderId);
  }

  @Producer(TOPICS.ordersShipped, { key: (event: { orderId: string }) => event.orderId })
  async ship(orderId: string) {
    return { orderId, shippedAt: Date.now() };
  }
}
