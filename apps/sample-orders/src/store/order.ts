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
  shippedAt: number | null;
  notifiedAt: number | null;
  status: OrderStatus;
}

/** Test cards, as payment providers publish them. */
export const CARDS = {
  ok: '4242424242424242',
  declined: '4000000000000002',
  /** The gateway times out twice, then accepts. */
  flaky: '4000000000000119',
} as const;
