import { waitFor } from './brook.js';
import { addressOf, ask, deleteMatching, toObject, waitForReplicas } from './redis-admin.js';
import { RedisServer } from './redis-server.js';

/** Options of a {@link SentinelSetup}. */
export interface SentinelSetupOptions {
  /** The master name the sentinels monitor. @defaultValue `'brook-primary'` */
  name?: string;
  /** How many sentinels watch the primary. @defaultValue `1` (enough for `SENTINEL FAILOVER`) */
  sentinels?: number;
  /** How many replicas follow the primary. @defaultValue `1` */
  replicas?: number;
  /** How long the sentinels wait before they consider an unresponsive primary down. @defaultValue `5_000` */
  downAfterMs?: number;
}

/**
 * A Sentinel deployment on free ports: one primary, one replica (or more) and sentinels monitoring
 * them under one master name. `failover()` promotes the (only) replica the way an operator would.
 */
export class SentinelSetup {
  private constructor(
    readonly name: string,
    private current: { primary: RedisServer; replicas: RedisServer[] },
    readonly sentinels: RedisServer[],
  ) {}

  /** Starts primary, replica and sentinels and waits until the sentinels see the replica. */
  static async start(options: SentinelSetupOptions = {}): Promise<SentinelSetup> {
    const name = options.name ?? 'brook-primary';
    const started: RedisServer[] = [];
    try {
      const primary = await RedisServer.start();
      started.push(primary);
      const replicas: RedisServer[] = [];
      for (let i = 0; i < (options.replicas ?? 1); i++) {
        const replica = await RedisServer.start({ replicaOf: primary });
        started.push(replica);
        replicas.push(replica);
      }
      await waitForReplicas(primary, replicas.length);
      const count = options.sentinels ?? 1;
      const quorum = Math.floor(count / 2) + 1;
      const sentinels = await Promise.all(
        Array.from({ length: count }, async () => {
          const sentinel = await RedisServer.start({
            args: ['--sentinel'],
            config: [
              `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
              `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 5_000}`,
              `sentinel failover-timeout ${name} 10000`,
            ].join('\n'),
          });
          started.push(sentinel);
          return sentinel;
        }),
      );
      const setup = new SentinelSetup(name, { primary, replicas }, sentinels);
      for (const replica of replicas) await setup.waitForReplica(replica);
      return setup;
    } catch (error) {
      await Promise.all(started.map((server) => server.stop()));
      throw error;
    }
  }

  /** The server that is primary now. */
  get primary(): RedisServer {
    return this.current.primary;
  }

  /** The server that is (or is about to become) its replica; the first one when there are several. */
  get replica(): RedisServer {
    return this.current.replicas[0];
  }

  /** Every replica, in start order. */
  get replicas(): readonly RedisServer[] {
    return this.current.replicas;
  }

  /** What to pass as `redis` to Brook. */
  get connection(): { sentinels: Array<{ host: string; port: number }>; name: string } {
    return { sentinels: this.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: this.name };
  }

  /** `host:port` of the primary, as the first sentinel reports it. */
  async reportedPrimary(sentinel = this.sentinels[0]): Promise<string> {
    const [host, port] = await ask<string[]>(sentinel.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name);
    return `${host}:${port}`;
  }

  /** Waits until every sentinel lists the replica as healthy, so a failover can pick it. */
  async waitForReplica(replica = this.replica): Promise<void> {
    const wanted = addressOf(replica);
    for (const sentinel of this.sentinels) {
      await waitFor(
        async () => {
          const replicas = await ask<string[][]>(sentinel.port, 'SENTINEL', 'REPLICAS', this.name);
          return replicas.some((flat) => {
            const fields = toObject(flat);
            return `${fields.ip}:${fields.port}` === wanted && fields.flags === 'slave' && fields['master-link-status'] === 'ok';
          });
        },
        { message: `sentinel ${sentinel.port} to see replica ${wanted}`, intervalMs: 50 },
      );
    }
  }

  /**
   * Runs `SENTINEL FAILOVER` and waits until every sentinel reports the replica as primary and it
   * accepts writes. The old primary stays up; Sentinel turns it into a replica some seconds later.
   */
  async failover(): Promise<void> {
    const { primary, replicas: [replica, ...others] } = this.current;
    await ask(this.sentinels[0].port, 'SENTINEL', 'FAILOVER', this.name);
    const promoted = addressOf(replica);
    await waitFor(async () => (await Promise.all(this.sentinels.map((s) => this.reportedPrimary(s)))).every((a) => a === promoted), {
      message: `the sentinels to report ${promoted} as primary`,
      intervalMs: 50,
    });
    await waitFor(async () => (await ask<unknown[]>(replica.port, 'ROLE'))[0] === 'master', { message: `${promoted} to become primary` });
    this.current = { primary: replica, replicas: [primary, ...others] };
  }

  /** Deletes every key under `prefix` on the primary; the replica follows. */
  async deleteKeys(prefix: string): Promise<void> {
    await deleteMatching(this.primary.port, `${prefix}:*`);
  }

  /** Stops every process and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, this.current.primary, ...this.current.replicas].map((server) => server.stop()));
  }
}
