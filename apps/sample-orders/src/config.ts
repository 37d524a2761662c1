/** Settings of the sample service, from the environment. */
export interface SampleConfig {
  port: number;
  redisUrl: string;
  /** Key prefix of Brook and of the sample's own keys, so runs can share a Redis. */
  prefix: string;
  /** Initial stock of the limited SKU; the demo sells more than this to show dead letters. */
  limitedStock: number;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  return {
    port: Number(env.PORT ?? 3000),
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: env.BROOK_PREFIX ?? 'brook',
    limitedStock: Number(env.LIMITED_STOCK ?? 50),
  };
}

/** Topics of the pipeline and their partition counts. */
export const TOPICS = {
  ordersCreated: 'orders.created',
  paymentsCompleted: 'payments.completed',
  inventoryReserved: 'inventory.reserved',
  ordersShipped: 'orders.shipped',
} as const;

export const SAMPLE_CONFIG = Symbol('sample-config');
