import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Producer } from '@brook/nest-adapter';
import { TOPICS } from '../config.js';
import type { Order } from '../store/order.js';
import { OrderStore } from '../store/order-store.js';
import type { CreateOrderDto } from './create-order.dto.js';

@Injectable()
export class OrdersService {
  constructor(private readonly store: OrderStore) {}

  /** Records the order, then publishes it keyed by customer, so one customer's orders stay in order. */
  async create(dto: CreateOrderDto): Promise<Order> {
    const order: Order = { orderId: randomUUID(), customerId: dto.customerId, amount: dto.amount, card: dto.card, items: dto.items, createdAt: Date.now() };
    await this.store.create(order);
    return this.publish(order);
  }

  @Producer(TOPICS.ordersCreated, { key: (order: Order) => order.customerId })
  async publish(order: Order): Promise<Order> {
    return order;
  }
}
