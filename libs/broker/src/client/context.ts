import { ClosedError } from '../errors/errors.js';
import {
  assertServerSupported,
  createConnection,
  describeConnection,
  translateRedisError,
  type ConnectionRole,
} from '../redis/connection.js';
import { KeySpace } from '../redis/keys.js';
import { withTimeout } from '../redis/request-timeout.js';
import type { ScriptSpec } from '../redis/script-table.js';
import { sendScript, type RedisClient } from '../redis/scripts.js';
import type { ResolvedBrookOptions } from './brook.options.js';

/**
 * What producers, consumers and admin share inside one {@link Brook}: options, the key layout, the
 * shared command connection and the bookkeeping of every connection opened, so `close()` leaves
 * nothing behind.
 */
export class BrookContext {
  readonly keys: KeySpace;
  /** The shared command connection. */
  readonly client: RedisClient;
  private readonly connections = new Set<RedisClient>();
  private readonly closeables = new Set<{ close(): Promise<void> }>();
  private supported: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(readonly options: ResolvedBrookOptions) {
    this.keys = new KeySpace(options.prefix);
    this.client = this.connect({ name: `${options.clientId}:brook` });
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  get logger() {
    return this.options.logger;
  }

  /** Throws `ClosedError` once `close()` was called. */
  assertOpen(what = 'Brook client'): void {
    if (this.closing !== undefined) throw new ClosedError(what);
  }

  /** Opens a dedicated connection that `close()` will also close. */
  connect(role: ConnectionRole): RedisClient {
    const client = createConnection(this.options.redis, this.options.connection, role);
    let healthy = true;
    client.on('error', (error: Error) => {
      if (healthy) this.logger.warn(`Redis connection '${role.name}' failed; reconnecting`, { error: error.message });
      healthy = false;
    });
    client.on('ready', () => {
      if (!healthy) this.logger.info(`Redis connection '${role.name}' is back`);
      healthy = true;
    });
    this.connections.add(client);
    return client;
  }

  /** Closes a connection opened with {@link connect}. */
  async disconnect(client: RedisClient): Promise<void> {
    if (!this.connections.delete(client)) return;
    await quit(client);
  }

  /** Registers something `close()` must close before the connections go. */
  track(closeable: { close(): Promise<void> }): void {
    this.closeables.add(closeable);
  }

  untrack(closeable: { close(): Promise<void> }): void {
    this.closeables.delete(closeable);
  }

  /** Resolves once the server was checked to be Redis ≥ 7.0; checked once per client. */
  ready(): Promise<void> {
    this.assertOpen();
    if (this.supported === undefined) {
      this.supported = this.run('check the Redis version', async () => {
        await assertServerSupported(this.client);
      });
      this.supported.catch(() => {
        this.supported = undefined;
      });
    }
    return this.supported;
  }

  /**
   * Runs one of Brook's scripts (see `SCRIPTS`) on the command connection, or on `client`, and
   * resolves with its parsed reply. Fails with a `BrokerError` naming the operation; with
   * `RequestTimeoutError` when Redis has not answered after `timeoutMs` (default
   * `connection.commandTimeoutMs`).
   */
  async call<Input, Reply>(spec: ScriptSpec<Input, Reply>, input: Input, options: { client?: RedisClient; timeoutMs?: number } = {}): Promise<Reply> {
    const operation = spec.describe(input);
    const request = sendScript(options.client ?? this.client, spec.name, spec.keys(this.keys, input), spec.args(input), spec.buffers);
    let reply: unknown;
    try {
      reply = await withTimeout(request, options.timeoutMs ?? this.options.connection.commandTimeoutMs, operation);
    } catch (error) {
      throw this.translate(error, operation);
    }
    return spec.parse(reply);
  }

  /** Runs Redis work, translating ioredis failures into Brook errors that name `operation`. */
  async run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.translate(error, operation);
    }
  }

  translate(error: unknown, operation: string) {
    return translateRedisError(error, operation, describeConnection(this.options.redis), this.options.connection.retries);
  }

  /** Closes producers and consumers first (they flush and leave), then every connection. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = (async () => {
        const results = await Promise.allSettled([...this.closeables].map((closeable) => closeable.close()));
        for (const result of results) {
          if (result.status === 'rejected') this.logger.warn('A producer or consumer failed to close cleanly', { error: String(result.reason) });
        }
        await Promise.all([...this.connections].map((client) => quit(client)));
        this.connections.clear();
      })();
    }
    return this.closing;
  }
}

/** How long `close()` waits for Redis to answer QUIT before dropping the connection. */
const QUIT_GRACE_MS = 300;

async function quit(client: RedisClient): Promise<void> {
  if (client.status === 'wait' || client.status === 'end') {
    client.disconnect();
    return;
  }
  try {
    // A polite QUIT, but a frozen or unreachable node must not hold the close up.
    await Promise.race([client.quit(), new Promise((resolve) => setTimeout(resolve, QUIT_GRACE_MS).unref())]);
  } catch {
    // Already gone; disconnect below settles any pending command.
  }
  client.disconnect();
}
