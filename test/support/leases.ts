import { forkTs, type TsProcess } from './child-process.js';

/** What a lease process reports. */
export type LeaseEvent =
  | { type: 'ready'; isLeader: boolean }
  | { type: 'elected'; epoch: number; at: number }
  | { type: 'revoked'; epoch: number; reason: string; at: number };

/** A controller-lease candidate running in a child process (see lease-process.ts). */
export interface LeaseProcess extends TsProcess {
  events: LeaseEvent[];
}

/** Starts a candidate and waits until its first campaign is done. */
export async function startLeaseProcess(settings: { redisUrl: string; prefix: string; holder: string; leaseMs: number; records: string }): Promise<LeaseProcess> {
  const { child, exited, signal } = forkTs('test/support/lease-process.ts', {
    REDIS_URL: settings.redisUrl,
    PREFIX: settings.prefix,
    HOLDER: settings.holder,
    LEASE_MS: String(settings.leaseMs),
    RECORDS: settings.records,
  });
  const events: LeaseEvent[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: LeaseEvent) => {
      events.push(message);
      if (message.type === 'ready') resolve();
    });
    void exited.then(() => reject(new Error(`lease process ${settings.holder} exited before it was ready`)));
  });
  await ready;
  return { child, events, exited, signal };
}
