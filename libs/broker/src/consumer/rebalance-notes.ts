import { groupByTopic, type TopicPartition, type TopicPartitions } from './topic-partition.js';

/**
 * Collects the partitions a member started and stopped processing during one turn of the event
 * loop and reports them as one `rebalance` event.
 */
export class RebalanceNotes {
  private assigned: TopicPartition[] = [];
  private revoked: TopicPartition[] = [];
  private scheduled = false;

  constructor(private readonly report: (change: { assigned: TopicPartitions[]; revoked: TopicPartitions[] }) => void) {}

  add(kind: 'assigned' | 'revoked', { topic, partition }: TopicPartition): void {
    (kind === 'assigned' ? this.assigned : this.revoked).push({ topic, partition });
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Reports what was collected now. */
  flush(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    const { assigned, revoked } = this;
    this.assigned = [];
    this.revoked = [];
    if (assigned.length + revoked.length > 0) this.report({ assigned: groupByTopic(assigned), revoked: groupByTopic(revoked) });
  }
}
