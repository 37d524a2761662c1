import type { BrookContext } from '../client/context.js';
import type { DeploymentMode, RedisNode } from '../redis/topology.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import { readTopologyWith, type TopologyOptions } from './topology-read.js';

/** The partitions of one topic a Redis primary leads. */
export interface LedPartitions {
  topic: string;
  partitions: number[];
}

/** A Redis server with the partitions it leads (none for replicas). */
export interface ClusterNodeDescription extends RedisNode {
  leads: LedPartitions[];
}

/** What `describeCluster` returns: the Redis deployment as Kafka's `kafka-topics --describe` shows brokers. */
export interface ClusterDescription {
  mode: DeploymentMode;
  /** The in-sync threshold the replicas were judged by. */
  maxLagBytes: number;
  /** Primaries first, each followed by its replicas. */
  nodes: ClusterNodeDescription[];
}

/** The deployment-wide view of the admin client. */
export class ClusterAdmin {
  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
  ) {}

  /** Every Redis server: role, slots, replication offset, lag and in-sync state, and the partitions each primary leads. */
  async describeCluster(options?: TopologyOptions): Promise<ClusterDescription> {
    const [topology, topics] = await Promise.all([readTopologyWith(this.ctx, options), this.registry.list()]);
    const leads = new Map<string, LedPartitions[]>();
    for (const { topic, partitions } of topics) {
      const byLeader = new Map<string, number[]>();
      for (let partition = 0; partition < partitions; partition++) {
        const { leader } = topology.leadershipOf(this.ctx.keys.log(topic, partition));
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), partition]);
      }
      for (const [leader, led] of byLeader) leads.set(leader, [...(leads.get(leader) ?? []), { topic, partitions: led }]);
    }
    return {
      mode: topology.mode,
      maxLagBytes: topology.maxLagBytes,
      nodes: topology.nodes.map((node) => ({ ...node, leads: node.role === 'primary' ? (leads.get(node.address) ?? []) : [] })),
    };
  }
}
