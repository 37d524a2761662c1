/**
 * A Sentinel failover to a replica that lagged, step by step: the replica stops applying the
 * replication stream while the primary takes writes, the primary dies, and the sentinels promote
 * the replica without them.
 */
import { waitFor } from '../../support/brook.js';
import { addressOf, ask } from '../../support/redis-admin.js';
import type { RedisServer } from '../../support/redis-server.js';
import type { SentinelSetup } from '../../support/sentinel.js';

/** The server's replication offset: what it applied of the primary's stream (or wrote, on a primary). */
export async function replicationOffset(server: RedisServer): Promise<number> {
  const info = await ask<string>(server.port, 'INFO', 'replication');
  return Number(/^(?:slave_repl_offset|master_repl_offset):(\d+)/m.exec(info)?.[1] ?? -1);
}

/**
 * Waits until `replica` applied everything `primary` wrote, then makes it stop applying the
 * replication stream (`CLIENT PAUSE … WRITE`): it still answers the sentinels' pings and INFO, so
 * they will promote it, but whatever the primary takes from now on exists only there. (A SIGSTOP
 * would not do: the stream waits in the replica's socket buffer and is applied after SIGCONT.)
 */
export async function pauseReplication(primary: RedisServer, replica: RedisServer): Promise<void> {
  await waitFor(async () => (await replicationOffset(replica)) === (await replicationOffset(primary)), { message: 'the replica to catch up' });
  await replica.command('CLIENT', 'PAUSE', '120000', 'WRITE');
}

/**
 * Kills the primary (SIGKILL), lets the paused replica go once it noticed (so the stream it had not
 * applied is discarded with the dead link) and waits until every sentinel reports it as primary.
 * Resolves with the kill instant (`Date.now()`).
 */
export async function failOverToLagging(setup: SentinelSetup, primary: RedisServer, lagging: RedisServer): Promise<number> {
  const killedAt = Date.now();
  await primary.kill();
  await waitFor(async () => /master_link_status:down/.test(await ask<string>(lagging.port, 'INFO', 'replication')), { message: 'the replica to lose its primary' });
  await lagging.command('CLIENT', 'UNPAUSE');
  await waitFor(async () => (await Promise.all(setup.sentinels.map((s) => setup.reportedPrimary(s)))).every((a) => a === addressOf(lagging)), {
    message: 'the sentinels to promote the lagging replica',
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  return killedAt;
}
