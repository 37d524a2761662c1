/**
 * A controller-lease candidate in its own process, for tests that kill and freeze the leader.
 * While it leads, it records a unit of work every WORK_MS in the Redis list RECORDS, checking
 * `isLeader` right before, the way a maintenance loop would.
 *
 * Configured through the environment: REDIS_URL, PREFIX, HOLDER, LEASE_MS, RECORDS, WORK_MS.
 */
import { Redis } from 'ioredis';
import { Brook } from '@brook/broker';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`lease process needs ${name}`);
  return value;
};

const holder = env('HOLDER');
const records = env('RECORDS');
const send = (message: unknown) => process.send?.(message);

const recorder = new Redis(env('REDIS_URL'));
const brook = new Brook({ redis: env('REDIS_URL'), prefix: env('PREFIX'), clientId: holder, logger: { debug() {}, info() {}, warn() {}, error() {} } });
const lease = brook.controllerLease({ leaseMs: Number(env('LEASE_MS')), holderId: holder });
lease.on('elected', ({ epoch }) => send({ type: 'elected', epoch, at: Date.now() }));
lease.on('revoked', ({ epoch, reason }) => send({ type: 'revoked', epoch, reason, at: Date.now() }));
await lease.start();

setInterval(() => {
  if (!lease.isLeader) return;
  void recorder.rpush(records, JSON.stringify({ holder, epoch: lease.epoch, at: Date.now() }));
}, Number(env('WORK_MS', '20')));
send({ type: 'ready', isLeader: lease.isLeader });
