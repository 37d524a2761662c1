import type { BrookContext } from '../client/context.js';
import { runScript } from '../redis/scripts.js';
import { parsePartitionKey, type TopicPartition } from './topic-partition.js';

/** What one heartbeat learned about the group. */
export interface HeartbeatResult {
  /** Increases whenever the assignment was recomputed. */
  generation: number;
  /** Partitions assigned to this member. */
  assigned: TopicPartition[];
  /** Partition count of each topic when the group first subscribed to it. */
  origins: Map<string, number>;
  /** Milliseconds until the next other member's session expires, or -1. */
  msUntilNextExpiry: number;
  /** Live members, this one included. */
  members: number;
}

type MembershipReply = [generation: number, owned: string, origins: string[], next: number, members: number];

/** Joins, heartbeats in and leaves a group; the assignment is computed inside the heartbeat script. */
export class GroupMembership {
  private readonly keys: string[];

  constructor(
    private readonly ctx: BrookContext,
    readonly group: string,
    readonly memberId: string,
    private readonly sessionTimeoutMs: number,
  ) {
    this.keys = ctx.keys.membershipKeys(group);
  }

  /** Heartbeats with the member's subscriptions and the partition counts it knows. */
  async heartbeat(partitionCounts: Map<string, number>): Promise<HeartbeatResult> {
    const info = JSON.stringify({ clientId: this.ctx.options.clientId, topics: [...partitionCounts.keys()].sort() });
    const args: Array<string | number> = ['join', this.memberId, this.sessionTimeoutMs, info];
    for (const [topic, count] of partitionCounts) args.push(topic, count);
    const [generation, owned, origins, next, members] = await runScript<MembershipReply>(this.ctx.client, 'membership', this.keys, args);
    const originMap = new Map<string, number>();
    for (let i = 0; i + 1 < origins.length; i += 2) originMap.set(origins[i], Number(origins[i + 1]));
    const list: unknown = JSON.parse(owned);
    return {
      generation,
      assigned: Array.isArray(list) ? (list as string[]).map(parsePartitionKey) : [],
      origins: originMap,
      msUntilNextExpiry: next,
      members,
    };
  }

  /** Leaves the group: its partitions are reassigned in the same step. */
  async leave(): Promise<void> {
    await runScript(this.ctx.client, 'membership', this.keys, ['leave', this.memberId, this.sessionTimeoutMs]);
  }
}
