import { EventEmitter } from 'node:events';
import { Cluster, type Redis } from 'ioredis';
import type { RedisClient } from './scripts.js';

/** Events of a {@link ConnectionWatch}. */
export interface ConnectionWatchEvents {
  /**
   * A connection closed: to the whole deployment (`node` undefined: standalone or Sentinel) or to
   * one Cluster node (`host:port`). Whatever was in flight on it is in doubt.
   */
  lost: [{ node: string | undefined }];
  /** The connection is ready again; `serverChanged` when it now talks to another server process (restart, failover). */
  restored: [{ node: string | undefined; serverChanged: boolean }];
}

/**
 * Watches a client's connections for drops and returns. ioredis `Cluster` emits no `ready` per
 * shard: a node whose connection ends is removed (`-node`) and a new connection made (`+node`)
 * when the slots are refreshed, so every node connection is watched on its own.
 */
export class ConnectionWatch extends EventEmitter<ConnectionWatchEvents> {
  private readonly runIds = new Map<string, string>();
  private readonly detach: Array<() => void> = [];

  constructor(private readonly client: RedisClient) {
    super();
    if (client instanceof Cluster) {
      const onAdded = (node: Redis, key?: string) => this.watch(node, key ?? nodeKey(node));
      const onRemoved = (_node: Redis, key?: string) => this.emit('lost', { node: key ?? nodeKey(_node) });
      client.on('+node', onAdded);
      client.on('-node', onRemoved);
      for (const node of client.nodes()) this.watch(node, nodeKey(node));
      this.detach.push(() => {
        client.off('+node', onAdded);
        client.off('-node', onRemoved);
      });
    } else {
      this.watch(client, undefined);
    }
  }

  close(): void {
    for (const detach of this.detach.splice(0)) detach();
    this.removeAllListeners();
  }

  private watch(connection: Redis, node: string | undefined): void {
    let down = false;
    const onClose = () => {
      if (down) return;
      down = true;
      this.emit('lost', { node });
    };
    const onReady = () => {
      if (!down) {
        void this.readRunId(connection, node);
        return;
      }
      down = false;
      void this.readRunId(connection, node).then((serverChanged) => this.emit('restored', { node, serverChanged }));
    };
    connection.on('close', onClose);
    connection.on('ready', onReady);
    if (connection.status === 'ready') void this.readRunId(connection, node);
    this.detach.push(() => {
      connection.off('close', onClose);
      connection.off('ready', onReady);
    });
  }

  /** Remembers the server's run_id; true when it differs from the one seen before on this node. */
  private async readRunId(connection: Redis, node: string | undefined): Promise<boolean> {
    try {
      const info = await connection.info('server');
      const runId = /run_id:(\w+)/.exec(info)?.[1] ?? '';
      const key = node ?? '';
      const previous = this.runIds.get(key);
      this.runIds.set(key, runId);
      return previous !== undefined && previous !== runId;
    } catch {
      return false;
    }
  }
}

function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}
