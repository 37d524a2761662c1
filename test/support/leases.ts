import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITE_NODE = fileURLToPath(new URL('../../node_modules/vite-node/dist/cli.mjs', import.meta.url));

/** What a lease process reports. */
export type LeaseEvent =
  | { type: 'ready'; isLeader: boolean }
  | { type: 'elected'; epoch: number; at: number }
  | { type: 'revoked'; epoch: number; reason: string; at: number };

/** A controller-lease candidate running in a child process (see lease-process.ts). */
export interface LeaseProcess {
  child: ChildProcess;
  events: LeaseEvent[];
  signal(signal: NodeJS.Signals): void;
  exited: Promise<void>;
}

const started: LeaseProcess[] = [];

/** Starts a candidate and waits until its first campaign is done. */
export async function startLeaseProcess(settings: { redisUrl: string; prefix: string; holder: string; leaseMs: number; records: string }): Promise<LeaseProcess> {
  const child = fork(VITE_NODE, ['--config', 'vitest.config.ts', 'test/support/lease-process.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, REDIS_URL: settings.redisUrl, PREFIX: settings.prefix, HOLDER: settings.holder, LEASE_MS: String(settings.leaseMs), RECORDS: settings.records },
  });
  const events: LeaseEvent[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: LeaseEvent) => {
      events.push(message);
      if (message.type === 'ready') resolve();
    });
    void exited.then(() => reject(new Error(`lease process ${settings.holder} exited before it was ready`)));
  });
  const lease: LeaseProcess = {
    child,
    events,
    exited,
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  started.push(lease);
  await ready;
  return lease;
}

afterEach(async () => {
  for (const lease of started.splice(0)) {
    lease.signal('SIGCONT');
    lease.signal('SIGKILL');
    await lease.exited;
  }
});
