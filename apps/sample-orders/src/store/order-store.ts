import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { SAMPLE_CONFIG, type SampleConfig } from '../config.js';
import type { Order, OrderStatus, OrderView } from './order.js';

/** Marks the inventory reserved and takes the stock, all or nothing; idempotent per order. */
const RESERVE = `
-- KEYS[1] order hash, KEYS[2] stock hash; ARGV: sku, qty pairs
if redis.call('HGET', KEYS[1], 'inventory') == 'reserved' then return 'reserved' end
for i = 1, #ARGV, 2 do
  if tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0') < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], 'inventory', 'out-of-stock')
    return ARGV[i]
  end
end
for i = 1, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], -tonumber(ARGV[i + 1])) end
redis.call('HSET', KEYS[1], 'inventory', 'reserved')
return 'reserved'
`;

/** Claims the shipment of a paid order with reserved stock; 1 for the caller that should ship it. */
const CLAIM_SHIPMENT = `
-- KEYS[1] order hash
local state = redis.call('HMGET', KEYS[1], 'payment', 'inventory', 'shipping')
if state[1] ~= 'paid' or state[2] ~= 'reserved' then return 0 end
if state[3] == 'shipped' then return 0 end
redis.call('HSET', KEYS[1], 'shipping', 'requested')
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
    await this.redis.hset(this.key(orderId), 'payment', payment);
  }

  async paymentOf(orderId: string): Promise<string | null> {
    return this.redis.hget(this.key(orderId), 'payment');
  }

  /** 'reserved', or the SKU that is out of stock. */
  async reserve(orderId: string, items: Array<{ sku: string; quantity: number }>): Promise<string> {
    const args = items.flatMap(({ sku, quantity }) => [sku, quantity]);
    return (this.redis as unknown as { reserveStock(...args: unknown[]): Promise<string> }).reserveStock(this.key(orderId), this.stockKey, ...args);
  }

  async claimShipment(orderId: string): Promise<boolean> {
    return (await (this.redis as unknown as { claimShipment(key: string): Promise<number> }).claimShipment(this.key(orderId))) === 1;
  }

  async markShipped(orderId: string, shippedAt: number): Promise<void> {
    await this.redis.hset(this.key(orderId), 'shipping', 'shipped', 'shippedAt', shippedAt);
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
    shippedAt: fields.shippedAt ? Number(fields.shippedAt) : null,
    notifiedAt: fields.notifiedAt ? Number(fields.notifiedAt) : null,
  };
  return { ...view, status: statusOf(view) };
}

/** One status per order; `declined`, `out-of-stock` and `delivered` are terminal. */
function statusOf(order: Omit<OrderView, 'status'>): OrderStatus {
  if (order.payment === 'declined') return 'declined';
  if (order.notifiedAt !== null) return 'delivered';
  if (order.shippedAt !== null) return 'shipped';
  if (order.inventory === 'out-of-stock') return 'out-of-stock';
  return 'processing';
}
