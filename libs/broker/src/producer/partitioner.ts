import { partitionForKey } from './murmur2.js';

/**
 * Chooses partitions: keyed messages by Kafka's murmur2, so a key lands where the Java client or
 * KafkaJS would put it; keyless messages stick to one partition per topic until the batch they
 * joined is sent, then move on, so small keyless sends still fill batches (Kafka's sticky
 * partitioner).
 */
export class Partitioner {
  private readonly sticky = new Map<string, number>();

  partition(topic: string, keyBytes: Uint8Array | null, partitions: number): number {
    if (keyBytes !== null) return partitionForKey(keyBytes, partitions);
    let current = this.sticky.get(topic);
    if (current === undefined || current >= partitions) {
      current = Math.floor(Math.random() * partitions);
      this.sticky.set(topic, current);
    }
    return current;
  }

  /** Called once a batch with keyless messages for `topic` was sent: the next batch picks another partition. */
  batchSent(topic: string, partitions: number): void {
    const previous = this.sticky.get(topic);
    if (previous === undefined) return;
    if (partitions <= 1) return;
    const next = Math.floor(Math.random() * (partitions - 1));
    this.sticky.set(topic, next >= previous ? next + 1 : next);
  }
}
