import { CARDS } from '../store/order.js';

/** One order the demo sends, and why it will end the way it does. */
export interface DemoOrder {
  body: { customerId: string; amount: number; card: string; items: Array<{ sku: string; quantity: number }> };
  /** What the demo injected: declined card, flaky gateway, the limited SKU. */
  injected: 'declined' | 'flaky' | 'limited' | 'none';
}

/**
 * A deterministic mix: 3 % declined cards (→ payments dead letters), 5 % orders whose payment
 * gateway fails twice before succeeding (→ retries), and 5 % orders for a SKU with less stock than
 * demand (→ inventory dead letters until restocked); the rest go straight through.
 */
export function demoOrders(count: number): DemoOrder[] {
  return Array.from({ length: count }, (_, i) => {
    const customerId = `customer-${i % 250}`;
    const amount = 10 + (i % 90);
    const slot = i % 100;
    if (slot < 3) return { body: { customerId, amount, card: CARDS.declined, items: [{ sku: 'sku-widget', quantity: 1 }] }, injected: 'declined' };
    if (slot < 8) return { body: { customerId, amount, card: CARDS.flaky, items: [{ sku: 'sku-gadget', quantity: 1 }] }, injected: 'flaky' };
    if (slot < 13) return { body: { customerId, amount, card: CARDS.ok, items: [{ sku: 'sku-limited', quantity: 1 }] }, injected: 'limited' };
    return { body: { customerId, amount, card: CARDS.ok, items: [{ sku: 'sku-widget', quantity: 1 + (i % 3) }, { sku: 'sku-gadget', quantity: 1 }] }, injected: 'none' };
  });
}
