/** An order as the service creates it. */
export interface Order {
  orderId: string;
  customerId: string;
  amount: number;
  card: string;
  items: Array<{ sku: string; quantity: number }>;
  createdAt: number;
}

/** Where an order is in the pipeline; `declined`, `out-of-stock` and `delivered` end it. */
export type OrderStatus = 'processing' | 'declined' | 'out-of-stock' | 'shipped' | 'delivered';

/** An order with its progress through the pipeline. */
export interface OrderView {
  orderId: string;
  customerId: string;
  amount: number;
  items: Array<{ sku: string; quantity: number }>;
  payment: 'pending' | 'retrying' | 'paid' | 'declined';
  inventory: 'pending' | 'reserved' | 'out-of-stock';
  createdAt: number;
  paidAt: number | null;
  reservedAt: number | null;
  shippedAt: number | null;
  notifiedAt: number | null;
  status: OrderStatus;
}

/**
 * Why a delivered order's steps are out of sequence, or `undefined` when they are in it: created,
 * then paid and reserved (either first), then shipped, then notified. Every step happens only after
 * the event of the one before was consumed, so a violation means a message was handled too early.
 */
export function sequenceProblem(order: OrderView): string | undefined {
  if (order.status !== 'delivered') return undefined;
  const { createdAt, paidAt, reservedAt, shippedAt, notifiedAt } = order;
  if (paidAt === null || reservedAt === null || shippedAt === null || notifiedAt === null) {
    return `delivered without ${paidAt === null ? 'paidAt' : reservedAt === null ? 'reservedAt' : shippedAt === null ? 'shippedAt' : 'notifiedAt'}`;
  }
  if (paidAt < createdAt || reservedAt < createdAt) return 'paid or reserved before it was created';
  if (shippedAt < Math.max(paidAt, reservedAt)) return 'shipped before it was paid and reserved';
  if (notifiedAt < shippedAt) return 'notified before it was shipped';
  return undefined;
}

/** Test cards, as payment providers publish them. */
export const CARDS = {
  ok: '4242424242424242',
  declined: '4000000000000002',
  /** The gateway times out twice, then accepts. */
  flaky: '4000000000000119',
} as const;
