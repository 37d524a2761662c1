import { Injectable } from '@nestjs/common';
import { Payload, Producer, Subscribe } from '@brook/nest-adapter';
import { TOPICS } from '../config.js';
import { OrderStore } from '../store/order-store.js';

/**
 * Ships an order once it is both paid and reserved, whichever event comes last; the store lets
 * exactly one of the two handlers claim the shipment.
 */
@Injectable()
export class ShippingHandler {
  constructor(private readonly store: OrderStore) {}

  @Subscribe(TOPICS.paymentsCompleted, 'shipping', { concurrency: 6 })
  async paid(@Payload('orderId') orderId: string): Promise<void> {
    await this.shipIfReady(orderId);
  }

  @Subscribe(TOPICS.inventoryReserved, 'shipping')
  async reserved(@Payload('orderId') orderId: string): Promise<void> {
    await this.shipIfReady(orderId);
  }

  private async shipIfReady(orderId: string): Promise<void> {
    if (!(await this.store.claimShipment(orderId))) return;
    const shipment = await this.ship(orderId);
    await this.store.markShipped(orderId, shipment.shippedAt);
  }

  @Producer(TOPICS.ordersShipped, { key: (event: { orderId: string }) => event.orderId })
  async ship(orderId: string) {
    return { orderId, shippedAt: Date.now() };
  }
}
