import { Injectable } from '@nestjs/common';
import { Payload, SubscribeBatch } from '@brook/nest-adapter';
import { TOPICS } from '../config.js';
import { OrderStore } from './order-store.js';

/**
 * Records shipments in the order store, one round trip per batch: a bulk write is what
 * `@SubscribeBatch` is for. If the write fails, the whole batch is tried again; recording a
 * shipment twice changes nothing.
 */
@Injectable()
export class ShipmentsHandler {
  constructor(private readonly store: OrderStore) {}

  @SubscribeBatch(TOPICS.ordersShipped, 'order-store', { concurrency: 6 })
  async record(@Payload() shipments: Array<{ orderId: string; shippedAt: number }>): Promise<void> {
    await this.store.recordShipments(shipments);
  }
}
