/** Retention of a topic. `null` means unlimited. */
export interface RetentionPolicy {
  /** Keep about this many messages per partition (trimmed on write, approximately). */
  maxMessages: number | null;
  /** Drop messages appended longer ago than this, by the Redis clock (applied by `admin.enforceRetention()`). */
  maxAgeMs: number | null;
}

/** A registered topic. */
export interface TopicConfig {
  topic: string;
  partitions: number;
  retention: RetentionPolicy;
  /** When the topic was created, in milliseconds since the epoch on the Redis clock. */
  createdAt: number;
}

/** The JSON shape stored in the topic registry; 0 stands for unlimited so Lua compares plain numbers. */
export interface StoredTopicConfig {
  partitions: number;
  retention: { maxMessages: number; maxAgeMs: number };
  createdAt: number;
}

export function toStored(config: TopicConfig): StoredTopicConfig {
  return {
    partitions: config.partitions,
    retention: { maxMessages: config.retention.maxMessages ?? 0, maxAgeMs: config.retention.maxAgeMs ?? 0 },
    createdAt: config.createdAt,
  };
}

export function fromStored(topic: string, json: string): TopicConfig {
  const stored = JSON.parse(json) as StoredTopicConfig;
  return {
    topic,
    partitions: stored.partitions,
    retention: {
      maxMessages: stored.retention.maxMessages > 0 ? stored.retention.maxMessages : null,
      maxAgeMs: stored.retention.maxAgeMs > 0 ? stored.retention.maxAgeMs : null,
    },
    createdAt: stored.createdAt,
  };
}

/** Upper bound on partitions per topic: each one is a stream with its own keys. */
export const MAX_PARTITIONS = 4_096;
