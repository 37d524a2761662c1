import { Injectable } from '@nestjs/common';
import { Payload, Subscribe } from '@brook/nest-adapter';
import { TOPICS } from '../config.js';
import { OrderStore } from '../store/order-store.js';

/** Tells the customer; the last step of the pipeline. */
@Injectable()
export class NotificationsHandler {
  constructor(private readonly store: OrderStore) {}

  @Subscribe(TOPICS.ordersShipped, 'notifications', { concurrency: 6 })
  async notify(@Payload('orderId') orderId: string): Promise<void> {
    await this.store.markNotified(orderId, Date.now());
  }
}
