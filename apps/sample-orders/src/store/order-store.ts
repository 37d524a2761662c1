import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { SAMPLE_CONFIG, type SampleConfig } from '../config.js';
import type { Order, OrderStatus, OrderView } from './order.js';

/** Marks the inventory reserved and takes the stock, all or nothing; idempotent per order. */
const RESERVE = `
-- KEYS[1] order hash, KEYS[2] stock hash; ARGV[1] reservedAt (ms), then sku, qty pairs
if redis.call('HGET', KEYS[1], 'inventory') == 'reserved' then return 'reserved' end
for i = 2, #ARGV, 2 do
  if tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0') < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], 'inventory', 'out-of-stock')
    return ARGV[i]
  end
end
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], -tonumber(ARGV[i + 1])) end
redis.call('HSET', KEYS[1], 'inventory', 'reserved', 'reservedAt', ARGV[1])
return 'reserved'
`;

/**
 * Claims the shipment of a paid order with reserved stock; 1 for the caller that should ship it.
 * Both events (paid, reserved) may find the order ready, so the first claimant wins and only it may
 * claim again — when its event is delivered again after a failure before the shipment was recorded.
 */
const CLAIM_SHIPMENT = `
-- KEYS[1] order hash; ARGV[1] claimant (the event that found the order ready)
local state = redis.call('HMGET', KEYS[1], 'payment', 'inventory', 'shipping', 'shippingClaimant')
if state[1] ~= 'paid' or state[2] ~= 'reserved' then return 0 end
if state[3] == 'shipped' then return 0 end
if state[4] and state[4] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'shipping', 'requested', 'shippingClaimant', ARGV[1])
return 1
`;

/** Orders and stock of the sample, in Redis next to Brook's keys. */
@Injectable()
export class OrderStore implements OnApplicationShutdown {
  readonly redis: Redis;

  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {
    this.redis = new Redis(config.redisUrl, { lazyConnect: true, connectionName: 'sample-orders:store' });
    this.redis.defineCommand('reserveStock', { numberOfKeys: 2, lua: RESERVE });
    this.redis.defineCommand('claimShipment', { numberOfKeys: 1, lua: CLAIM_SHIPMENT });
  }

  private key(orderId: string): string {
    return `${this.config.prefix}:sample:order:${orderId}`;
  }

  private get stockKey(): string {
    return `${this.config.prefix}:sample:stock`;
  }

  private get indexKey(): string {
    return `${this.config.prefix}:sample:orders`;
  }

  async seedStock(stock: Record<string, number>): Promise<void> {
    for (const [sku, quantity] of Object.entries(stock)) await this.redis.hsetnx(this.stockKey, sku, String(quantity));
  }

  async stock(): Promise<Record<string, number>> {
    const all = await this.redis.hgetall(this.stockKey);
    return Object.fromEntries(Object.entries(all).map(([sku, quantity]) => [sku, Number(quantity)]));
  }

  async restock(sku: string, quantity: number): Promise<number> {
    return this.redis.hincrby(this.stockKey, sku, quantity);
  }

  async create(order: Order): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(order.orderId), {
        customerId: order.customerId,
        amount: order.amount,
        card: order.card,
        items: JSON.stringify(order.items),
        createdAt: order.createdAt,
        payment: 'pending',
        inventory: 'pending',
      })
      .zadd(this.indexKey, order.createdAt, order.orderId)
      .exec();
  }

  async setPayment(orderId: string, payment: 'paid' | 'declined' | 'retrying'): Promise<void> {
    if (payment === 'paid') await this.redis.hset(this.key(orderId), 'payment', payment, 'paidAt', Date.now());
    else await this.redis.hset(this.key(orderId), 'payment', payment);
  }

  async paymentOf(orderId: string): Promise<string | null> {
    return this.redis.hget(this.key(orderId), 'payment');
  }

  /** 'reserved', or the SKU that is out of stock. */
  async reserve(orderId: string, items: Array<{ sku: string; quantity: number }>): Promise<string> {
    const args = [Date.now(), ...items.flatMap(({ sku, quantity }) => [sku, quantity])];
    return (this.redis as unknown as { reserveStock(...args: unknown[]): Promise<string> }).reserveStock(this.key(orderId), this.stockKey, ...args);
  }

  /** Whether `claimant` (the event that found the order ready) should ship it. */
  async claimShipment(orderId: string, claimant: string): Promise<boolean> {
    return (await (this.redis as unknown as { claimShipment(key: string, claimant: string): Promise<number> }).claimShipment(this.key(orderId), claimant)) === 1;
  }

  /**
   * Records shipments in one round trip. The first record of an order's shipment wins, so a
   * shipment event delivered again cannot move `shippedAt` past the customer's notification.
   */
  async recordShipments(shipments: ReadonlyArray<{ orderId: string; shippedAt: number }>): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const { orderId, shippedAt } of shipments) {
      pipeline.hsetnx(this.key(orderId), 'shippedAt', String(shippedAt)).hset(this.key(orderId), 'shipping', 'shipped');
    }
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error !== null);
    if (failed) throw failed[0];
  }

  async markNotified(orderId: string, notifiedAt: number): Promise<void> {
    await this.redis.hsetnx(this.key(orderId), 'notifiedAt', String(notifiedAt));
  }

  async get(orderId: string): Promise<OrderView | null> {
    const fields = await this.redis.hgetall(this.key(orderId));
    return Object.keys(fields).length === 0 ? null : toView(orderId, fields);
  }

  /** Every order, oldest first. */
  async all(): Promise<OrderView[]> {
    const ids = await this.redis.zrange(this.indexKey, '0', '-1');
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.key(id));
    const replies = (await pipeline.exec()) ?? [];
    return ids.map((id, i) => toView(id, replies[i][1] as Record<string, string>));
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }
}

function toView(orderId: string, fields: Record<string, string>): OrderView {
  const view = {
    orderId,
    customerId: fields.customerId,
    amount: Number(fields.amount),
    items: JSON.parse(fields.items ?? '[]') as OrderView['items'],
    payment: fields.payment as OrderView['payment'],
    inventory: fields.inventory as OrderView['inventory'],
    createdAt: Number(fields.createdAt),
    paidAt: fields.paidAt ? Number(fields.paidAt) : null,
    reservedAt: fields.reservedAt ? Number(fields.reservedAt) : null,
    shippedAt: fields.shippedAt ? Number(fields.shippedAt) : null,
    notifiedAt: fields.notifiedAt ? Number(fields.notifiedAt) : null,
  };
  return { ...view, status: statusOf(view) };
}

/**
 * One status per order; `declined`, `out-of-stock` and `delivered` are terminal. The notification
 * and the record of the shipment are written by different groups, so a notified order is delivered
 * once its shipment is recorded too.
 */
function statusOf(order: Omit<OrderView, 'status'>): OrderStatus {
  if (order.payment === 'declined') return 'declined';
  if (order.shippedAt !== null) return order.notifiedAt !== null ? 'delivered' : 'shipped';
  if (order.notifiedAt !== null) return 'processing';
  if (order.inventory === 'out-of-stock') return 'out-of-stock';
  return 'processing';
}
