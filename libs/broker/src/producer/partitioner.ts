import { partitionForKey } from './murmur2.js';

/**
 * Chooses partitions: keyed messages by Kafka's murmur2, so a key lands where the Java client or
 * KafkaJS would put it; keyless messages stick to one partition per topic until the batch they
 * joined is cut, then move on, so small keyless sends still fill batches (Kafka's sticky
 * partitioner).
 */
export class Partitioner {
  private readonly sticky = new Map<string, { partition: number; partitions: number; used: boolean }>();

  partition(topic: string, keyBytes: Uint8Array | null, partitions: number): number {
    if (keyBytes !== null) return partitionForKey(keyBytes, partitions);
    let current = this.sticky.get(topic);
    if (current === undefined || current.partition >= partitions) {
      current = { partition: Math.floor(Math.random() * partitions), partitions, used: false };
      this.sticky.set(topic, current);
    }
    current.partitions = partitions;
    return current.partition;
  }

  /** A keyless message for `topic` joined the current batch of its sticky partition. */
  keylessQueued(topic: string): void {
    const current = this.sticky.get(topic);
    if (current !== undefined) current.used = true;
  }

  /** The batches were cut: topics whose sticky partition got keyless messages move to another one. */
  batchesCut(): void {
    for (const current of this.sticky.values()) {
      if (!current.used) continue;
      current.used = false;
      if (current.partitions <= 1) continue;
      const next = Math.floor(Math.random() * (current.partitions - 1));
      current.partition = next >= current.partition ? next + 1 : next;
    }
  }
}
