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
  /**
   * Redis Cluster's slot map shows a replica serving slots its primary served before: a failover.
   * Writes the old primary acknowledged may never have reached it, so whatever was in flight on
   * those slots is in doubt — whether or not a connection dropped (a frozen primary's does not).
   */
  promoted: [{ from: string; to: string; slots: ReadonlySet<number> }];
}

/** One run of slots with the same nodes, `nodes[0]` the primary (as ioredis' `Cluster.slots` holds them). */
export interface SlotRange {
  from: number;
  to: number;
  nodes: string[];
}

/**
 * Watches a client's connections for drops and returns. ioredis `Cluster` emits no `ready` per
 * shard: a node whose connection ends is removed (`-node`) and a new connection made (`+node`)
 * when the slots are refreshed, so every node connection is watched on its own. A promotion shows
 * only in the slot map: each refresh (`refresh`, after a redirection, a dropped node or the
 * periodic `slotsRefreshInterval`) is compared with the one before, and slots now served by what
 * was their replica are reported as `promoted`.
 */
export class ConnectionWatch extends EventEmitter<ConnectionWatchEvents> {
  private readonly runIds = new Map<string, string>();
  private readonly detach: Array<() => void> = [];
  private slotMap: SlotRange[] = [];

  constructor(private readonly client: RedisClient) {
    super();
    if (client instanceof Cluster) {
      const onAdded = (node: Redis, key?: string) => this.watch(node, key ?? nodeKey(node));
      const onRemoved = (_node: Redis, key?: string) => this.emit('lost', { node: key ?? nodeKey(_node) });
      const onRefresh = () => this.compareSlots(client);
      client.on('+node', onAdded);
      client.on('-node', onRemoved);
      client.on('refresh', onRefresh);
      for (const node of client.nodes()) this.watch(node, nodeKey(node));
      this.slotMap = readSlotMap(client);
      this.detach.push(() => {
        client.off('+node', onAdded);
        client.off('-node', onRemoved);
        client.off('refresh', onRefresh);
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

  private compareSlots(client: Cluster): void {
    const before = this.slotMap;
    this.slotMap = readSlotMap(client);
    for (const promotion of slotPromotions(before, this.slotMap)) this.emit('promoted', promotion);
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

/**
 * The slots whose primary in `after` was one of their replicas in `before` — failovers, told apart
 * from a resharding (a new primary that did not replicate the slot) — grouped by old and new primary.
 * Both maps list ranges in slot order.
 */
export function slotPromotions(before: readonly SlotRange[], after: readonly SlotRange[]): Array<{ from: string; to: string; slots: Set<number> }> {
  const promotions = new Map<string, { from: string; to: string; slots: Set<number> }>();
  let i = 0;
  for (const range of after) {
    for (let slot = range.from; slot <= range.to; slot++) {
      while (i < before.length && before[i].to < slot) i++;
      const old = i < before.length && before[i].from <= slot ? before[i].nodes : undefined;
      const primary = range.nodes[0];
      if (old === undefined || old[0] === primary || !old.slice(1).includes(primary)) continue;
      const key = `${old[0]}>${primary}`;
      const promotion = promotions.get(key) ?? { from: old[0], to: primary, slots: new Set<number>() };
      promotion.slots.add(slot);
      promotions.set(key, promotion);
    }
  }
  return [...promotions.values()];
}

/** ioredis' current slot map as runs of slots with the same nodes (it changes its own arrays in place). */
function readSlotMap(client: Cluster): SlotRange[] {
  const slots = (client as unknown as { slots?: Array<string[] | undefined> }).slots ?? [];
  const ranges: SlotRange[] = [];
  for (let slot = 0; slot < slots.length; slot++) {
    const nodes = slots[slot];
    if (nodes === undefined || nodes.length === 0) continue;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.to === slot - 1 && sameNodes(last.nodes, nodes)) last.to = slot;
    else ranges.push({ from: slot, to: slot, nodes: [...nodes] });
  }
  return ranges;
}

function sameNodes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((node, i) => node === b[i]);
}

function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}
