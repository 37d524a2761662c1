import { ApiProperty } from '@nestjs/swagger';

const SLOT_RANGES = {
  type: 'array',
  description: 'Hash slot ranges served, as [from, to] (inclusive).',
  items: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 16_383 }, minItems: 2, maxItems: 2 },
} as const;

/** One replica of a partition's leader (response schema). */
export class ReplicaStatusDto {
  @ApiProperty({ description: 'host:port', example: '10.0.0.12:6379' })
  address!: string;

  @ApiProperty({ description: "online, or what keeps it from being online: wait_bgsave, send_bulk, loading, failed, disconnected, unknown.", example: 'online' })
  state!: string;

  @ApiProperty({ description: 'Replication offset (bytes) the replica last acknowledged; it acknowledges once a second.', type: 'integer', nullable: true })
  offset!: number | null;

  @ApiProperty({ description: "Bytes behind the leader's replication offset.", type: 'integer', nullable: true })
  lagBytes!: number | null;

  @ApiProperty({ description: 'Online and at most maxLagBytes (BROOK_MAX_REPLICA_LAG_BYTES) behind; unknown lag never counts.' })
  inSync!: boolean;
}

/** One partition of `GET /api/v1/topics/{topic}` (response schema). */
export class PartitionDescriptionDto {
  @ApiProperty({ type: 'integer', minimum: 0 })
  partition!: number;

  @ApiProperty({ description: 'Offset of the oldest message still stored (log start offset).', type: 'integer', minimum: 0 })
  lowOffset!: number;

  @ApiProperty({ description: 'Offset the next message will get (log end offset).', type: 'integer', minimum: 0 })
  highOffset!: number;

  @ApiProperty({ description: "host:port of the Redis primary serving the partition's slot, or 'unknown'.", example: '10.0.0.11:6379' })
  leader!: string;

  @ApiProperty({ description: "Every replica of the leader, whatever its state (Kafka's Replicas).", type: [String] })
  replicas!: string[];

  @ApiProperty({ description: "Replicas online and within the lag threshold (Kafka's Isr).", type: [String] })
  inSyncReplicas!: string[];

  @ApiProperty({ type: [ReplicaStatusDto] })
  replicaStatus!: ReplicaStatusDto[];
}

/** A topic's retention (response schema). */
export class RetentionViewDto {
  @ApiProperty({ type: 'integer', nullable: true })
  maxMessages!: number | null;

  @ApiProperty({ type: 'integer', nullable: true })
  maxAgeMs!: number | null;
}

/** `GET /api/v1/topics/{topic}` (response schema). */
export class TopicDescriptionDto {
  @ApiProperty()
  topic!: string;

  @ApiProperty({ type: RetentionViewDto })
  retention!: RetentionViewDto;

  @ApiProperty({ description: 'When the topic was created (ms since the epoch, Redis clock).', type: 'integer' })
  createdAt!: number;

  @ApiProperty({ type: [PartitionDescriptionDto] })
  partitions!: PartitionDescriptionDto[];
}

/** The partitions of one topic a primary leads (response schema). */
export class LedPartitionsDto {
  @ApiProperty()
  topic!: string;

  @ApiProperty({ type: 'integer', isArray: true })
  partitions!: number[];
}

/** One Redis server of `GET /api/v1/cluster` (response schema). */
export class ClusterNodeDto {
  @ApiProperty({ description: 'Cluster node id; null outside a Cluster.', type: String, nullable: true })
  id!: string | null;

  @ApiProperty({ description: 'host:port' })
  address!: string;

  @ApiProperty({ enum: ['primary', 'replica'] })
  role!: 'primary' | 'replica';

  @ApiProperty({ description: 'For a replica: host:port of its primary.', type: String, nullable: true })
  primary!: string | null;

  @ApiProperty({ description: 'online when healthy; otherwise the state a replica or failing node is in.' })
  state!: string;

  @ApiProperty(SLOT_RANGES)
  slots!: Array<[number, number]>;

  @ApiProperty({ description: 'Replication offset in bytes.', type: 'integer', nullable: true })
  replicationOffset!: number | null;

  @ApiProperty({ description: 'For a replica: bytes behind its primary.', type: 'integer', nullable: true })
  lagBytes!: number | null;

  @ApiProperty({ description: 'For a replica: whether it counts as in sync; null for primaries.', type: Boolean, nullable: true })
  inSync!: boolean | null;

  @ApiProperty({ description: 'The partitions this primary leads, per topic (empty for replicas).', type: [LedPartitionsDto] })
  leads!: LedPartitionsDto[];
}

/** `GET /api/v1/cluster` (response schema). */
export class ClusterDescriptionDto {
  @ApiProperty({ enum: ['standalone', 'sentinel', 'cluster'] })
  mode!: 'standalone' | 'sentinel' | 'cluster';

  @ApiProperty({ description: 'The in-sync threshold replicas were judged by (BROOK_MAX_REPLICA_LAG_BYTES).', type: 'integer', minimum: 0 })
  maxLagBytes!: number;

  @ApiProperty({ description: 'Primaries, each followed by its replicas.', type: [ClusterNodeDto] })
  nodes!: ClusterNodeDto[];
}
