import { Injectable } from '@nestjs/common';
import { Payload, Subscribe } from '@brook/nest-adapter';
import { TOPICS } from '../config.js';
import { OrderStore } from '../store/order-store.js';

/**
 * Tells the customer; the last step of the pipeline. Notifications need no order, so they run as a
 * share group: every instance of the service takes whichever shipment is next, up to 32 at once
 * each, and adding instances adds senders regardless of the topic's partition count.
 */
@Injectable()
export class NotificationsHandler {
  constructor(private readonly store: OrderStore) {}

  @Subscribe(TOPICS.ordersShipped, 'notifications', { share: true, concurrency: 32 })
  async notify(@Payload('orderId') orderId: string): Promise<void> {
    await this.store.markNotified(orderId, Date.now());
  }
}
