import { describe, expect, inject, it } from 'vitest';
import { startBrokerHost } from '../../apps/broker-host/src/host.js';
import { TOPICS } from '../../apps/sample-orders/src/config.js';
import { demoOrders } from '../../apps/sample-orders/src/demo/demo-orders.js';
import { startSampleApp } from '../../apps/sample-orders/src/sample-app.js';
import { sequenceProblem, type OrderView } from '../../apps/sample-orders/src/store/order.js';
import { uniquePrefix, waitFor } from '../support/brook.js';

const TOKEN = 'pipeline-test-token-0123456789';

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

describe('the sample order pipeline', () => {
  it('ends every order in exactly one terminal state, dead-letters the injected failures by reason, and ships replayed orders after a restock', async () => {
    const prefix = uniquePrefix();
    const redisUrl = inject('redisUrl');
    const orders = demoOrders(200);
    const limited = orders.filter((o) => o.injected === 'limited').length;
    const stock = 4;
    const sample = await startSampleApp({ port: 0, redisUrl, prefix, limitedStock: stock }, ['fatal']);
    const host = await startBrokerHost({ port: 0, host: '127.0.0.1', redisUrl, prefix, adminTokens: `test:admin:${TOKEN}`, logLevel: 'fatal' });
    try {
      const accepted: string[] = [];
      for (let i = 0; i < orders.length; i += 20) {
        const batch = await Promise.all(orders.slice(i, i + 20).map((order) => call<{ orderId: string }>('POST', `${sample.url}/orders`, order.body)));
        accepted.push(...batch.map((b) => b.orderId));
      }
      const settled = async () => {
        const all = await Promise.all(accepted.map((id) => call<OrderView>('GET', `${sample.url}/orders/${id}`)));
        return all.every((order) => ['delivered', 'declined', 'out-of-stock'].includes(order.status)) ? all : undefined;
      };
      const first = await waitFor(settled, { timeoutMs: 30_000, intervalMs: 200, message: 'every order to reach a terminal state' });

      const statuses = first.map((order) => order.status);
      const injected = (kind: string) => orders.filter((o) => o.injected === kind).length;
      expect(statuses.filter((s) => s === 'declined')).toHaveLength(injected('declined'));
      expect(statuses.filter((s) => s === 'out-of-stock')).toHaveLength(limited - stock);
      expect(statuses.filter((s) => s === 'delivered')).toHaveLength(orders.length - injected('declined') - (limited - stock));
      // Every order is in exactly one terminal state: declined orders never shipped, delivered ones were
      // paid and reserved, then shipped, then notified — though payments, inventory and shipping run
      // many orders side by side (ordering 'key'), notifications is a share group and the shipments
      // are recorded in batches.
      for (const order of first) {
        if (order.status === 'declined') expect(order.shippedAt).toBeNull();
        if (order.status === 'delivered') expect([order.payment, order.inventory]).toEqual(['paid', 'reserved']);
        expect(sequenceProblem(order)).toBeUndefined();
      }

      const list = (group: string) => call<{ items: Array<{ reason: string; error: { message: string } }> }>('GET', `${host.url}/api/v1/dead-letters?topic=${TOPICS.ordersCreated}&group=${group}&limit=1000`);
      const payments = (await list('payments')).items;
      const inventory = (await list('inventory')).items;
      expect(payments).toHaveLength(injected('declined'));
      expect(payments.every((d) => d.reason === 'non-retriable' && /card declined/.test(d.error.message))).toBe(true);
      expect(inventory).toHaveLength(limited - stock);
      expect(inventory.every((d) => d.reason === 'non-retriable' && /out of stock: sku-limited/.test(d.error.message))).toBe(true);
      const groups = await call<{ partitions: Array<{ counters: { retried: number } }> }>('GET', `${host.url}/api/v1/groups/payments/topics/${TOPICS.ordersCreated}`);
      expect(groups.partitions.reduce((sum, p) => sum + p.counters.retried, 0)).toBe(injected('flaky') * 2);

      await call('POST', `${sample.url}/inventory/restock`, { sku: 'sku-limited', quantity: limited });
      const replay = await call<{ replayed: number }>('POST', `${host.url}/api/v1/dead-letters/replay`, { topic: TOPICS.ordersCreated, group: 'inventory', all: true });
      expect(replay.replayed, JSON.stringify(replay)).toBe(limited - stock);
      const after = await waitFor(
        async () => {
          const all = await settled();
          return all?.every((order) => order.status !== 'out-of-stock') ? all : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200, message: 'the replayed orders to be delivered' },
      );
      expect(after.filter((o) => o.status === 'delivered')).toHaveLength(orders.length - injected('declined'));
      expect(after.map(sequenceProblem).filter(Boolean)).toEqual([]);
      expect((await list('inventory')).items).toEqual([]);
    } finally {
      await host.app.close();
      await sample.app.close();
    }
  });
});
