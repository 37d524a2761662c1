/** A partition of a topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Partitions grouped by topic, as `pause`, `resume` and rebalance events use them. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/** `topic:partition`, the form used in the assignment (topic names cannot contain ':'). */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export function parsePartitionKey(key: string): TopicPartition {
  const colon = key.lastIndexOf(':');
  return { topic: key.slice(0, colon), partition: Number(key.slice(colon + 1)) };
}

/** Groups partitions by topic, sorted. */
export function groupByTopic(partitions: Iterable<TopicPartition>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}
