import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { GroupCounters } from '@brook/broker';
import { LagSamplerService } from '../maintenance/lag-sampler.service.js';
import { DeadLetterMaintenance } from '../maintenance/dead-letter-maintenance.service.js';
import { MaintenanceService } from '../maintenance/maintenance.service.js';
import { BrokerSnapshotService, type BrokerSnapshot } from '../snapshot/broker-snapshot.service.js';

const PARTITION = ['topic', 'partition'] as const;
const GROUP_PARTITION = ['group', 'topic', 'partition'] as const;

/** The group counters exported, by metric name; Redis keeps them, so they survive host restarts. */
const COUNTERS: Record<keyof GroupCounters, { name: string; help: string }> = {
  processed: { name: 'brook_messages_processed_total', help: 'Messages whose handler succeeded, per group and partition.' },
  failed: { name: 'brook_messages_failed_total', help: 'Failed handler attempts, per group and partition.' },
  retried: { name: 'brook_messages_retried_total', help: 'Retries scheduled after a failure, per group and partition.' },
  deadLettered: { name: 'brook_messages_dead_lettered_total', help: 'Messages moved to the dead-letter topic, per group and partition.' },
  skipped: { name: 'brook_messages_skipped_total', help: 'Messages removed by retention before the group read them, per group and partition.' },
  rollbacks: {
    name: 'brook_rollbacks_detected_total',
    help: 'Times a member found the log end below what it had read (Redis lost acknowledged writes), per group and partition.',
  },
};

/**
 * Prometheus metrics of the host's own registry (several hosts in one process, as in tests, do not
 * collide). Broker metrics are read from Redis on scrape through the bounded, cached snapshot.
 */
@Injectable()
export class MetricsService implements OnModuleDestroy {
  readonly registry = new Registry();

  constructor(
    private readonly snapshots: BrokerSnapshotService,
    private readonly maintenance: MaintenanceService,
    private readonly lagSampler: LagSamplerService,
    private readonly deadLetterMaintenance: DeadLetterMaintenance,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'brook_' });
    this.defineBrokerMetrics();
    this.defineControllerMetrics();
  }

  /** The exposition text; broker metrics reflect a snapshot at most `metricsCacheMs` old. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  onModuleDestroy(): void {
    this.registry.clear();
  }

  private defineBrokerMetrics(): void {
    const registers = [this.registry];
    const snapshot = () => this.snapshots.get();
    // Each metric rebuilds its series from the snapshot, so deleted topics and groups disappear.
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (gauge: Gauge<L>, snapshot: BrokerSnapshot) => void) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          const taken = await snapshot();
          this.reset();
          fill(this, taken);
        },
      });

    gauge('brook_up', 'Whether the last read of Redis succeeded (1) or failed (0).', [], (g, s) => g.set(s.error === null ? 1 : 0));
    gauge('brook_metrics_read_duration_seconds', 'How long the last read of every topic and group took.', [], (g, s) => g.set(s.durationMs / 1_000));
    gauge('brook_metrics_partitions_read', 'Partitions visited by the last read, topics and groups together.', [], (g, s) => g.set(s.partitionsRead));
    gauge('brook_metrics_truncated', 'Whether the last read stopped at BROOK_METRICS_MAX_PARTITIONS (1) and left topics or groups out.', [], (g, s) =>
      g.set(s.truncated ? 1 : 0),
    );
    gauge('brook_topic_partitions', 'Partitions of each topic.', ['topic'], (g, s) => {
      for (const topic of s.topics) g.set({ topic: topic.topic }, topic.partitions.length);
    });
    gauge('brook_partition_high_offset', 'Log end offset: the offset the next message will get.', PARTITION, (g, s) => {
      for (const topic of s.topics) for (const p of topic.partitions) g.set({ topic: topic.topic, partition: String(p.partition) }, p.highOffset);
    });
    gauge('brook_partition_low_offset', 'Log start offset: the oldest message still stored.', PARTITION, (g, s) => {
      for (const topic of s.topics) for (const p of topic.partitions) g.set({ topic: topic.topic, partition: String(p.partition) }, p.lowOffset);
    });
    gauge('brook_partition_leader_info', "The Redis primary leading each partition ('unknown' when none does); always 1.", ['topic', 'partition', 'leader'] as const, (g, s) => {
      for (const topic of s.topics) for (const p of topic.partitions) g.set({ topic: topic.topic, partition: String(p.partition), leader: p.leader }, 1);
    });
    gauge('brook_partition_replicas', "Replicas of each partition's leader, whatever their state.", PARTITION, (g, s) => {
      for (const topic of s.topics) for (const p of topic.partitions) g.set({ topic: topic.topic, partition: String(p.partition) }, p.replicas.length);
    });
    gauge(
      'brook_partition_replicas_in_sync',
      "Replicas of each partition's leader that are online and at most BROOK_MAX_REPLICA_LAG_BYTES behind it.",
      PARTITION,
      (g, s) => {
        for (const topic of s.topics) for (const p of topic.partitions) g.set({ topic: topic.topic, partition: String(p.partition) }, p.inSyncReplicas.length);
      },
    );
    gauge('brook_group_members', 'Live members of each group.', ['group'], (g, s) => {
      for (const { listing } of s.groups) g.set({ group: listing.group }, listing.members);
    });

    const perGroupPartition = (name: string, help: string, value: (p: BrokerSnapshot['groups'][number]['topics'][number]['partitions'][number]) => number | null) =>
      gauge(name, help, GROUP_PARTITION, (g, s) => {
        for (const { listing, topics } of s.groups) {
          for (const description of topics) {
            for (const p of description.partitions) {
              const v = value(p);
              if (v !== null) g.set({ group: listing.group, topic: description.topic, partition: String(p.partition) }, v);
            }
          }
        }
      });
    perGroupPartition('brook_group_lag', 'Messages the group has not finished: unread, unacknowledged or waiting for a retry.', (p) => p.lag);
    perGroupPartition('brook_group_lag_seconds', 'Age in seconds (Redis clock) of the oldest message the group has not finished; 0 when it finished everything.', (p) => p.lagSeconds);
    perGroupPartition('brook_group_committed_offset', 'Where the group resumes on the partition.', (p) => p.committedOffset);
    perGroupPartition('brook_group_pending', 'Messages read but not yet acknowledged.', (p) => p.pending);
    perGroupPartition('brook_group_retrying', "Messages waiting in the group's delay queue for another attempt.", (p) => p.retrying);
    perGroupPartition('brook_dead_letters', "Depth of the group's dead-letter topic on the partition.", (p) => p.deadLettered);

    for (const [field, { name, help }] of Object.entries(COUNTERS) as Array<[keyof GroupCounters, { name: string; help: string }]>) {
      new Counter({
        name,
        help,
        labelNames: GROUP_PARTITION,
        registers,
        async collect() {
          const taken = await snapshot();
          // Redis holds the running totals; the counter mirrors them.
          this.reset();
          for (const { listing, topics } of taken.groups) {
            for (const description of topics) {
              for (const p of description.partitions) {
                // Zero too: a series that exists from the start lets rate() and increase() see its first rise.
                this.inc({ group: listing.group, topic: description.topic, partition: String(p.partition) }, p.counters[field]);
              }
            }
          }
        },
      });
    }
  }

  private defineControllerMetrics(): void {
    const registers = [this.registry];
    const status = () => this.maintenance.status();
    new Gauge({
      name: 'brook_controller_leader',
      help: 'Whether this host is the active maintenance controller (1) or not (0).',
      registers,
      collect() {
        this.set(status().isLeader ? 1 : 0);
      },
    });
    new Counter({
      name: 'brook_maintenance_runs_total',
      help: 'Maintenance passes this host ran as the controller, by outcome.',
      labelNames: ['outcome'],
      registers,
      collect() {
        const { runs, failedRuns } = status();
        this.reset();
        this.inc({ outcome: 'ok' }, runs - failedRuns);
        this.inc({ outcome: 'error' }, failedRuns);
      },
    });
    const sampler = () => this.lagSampler.status();
    new Counter({
      name: 'brook_lag_samples_total',
      help: 'Lag history samples (one per group and topic) this host wrote as the controller.',
      registers,
      collect() {
        this.reset();
        this.inc(sampler().samples);
      },
    });
    new Counter({
      name: 'brook_retention_removed_total',
      help: 'Messages this host removed by age retention as the controller.',
      registers,
      collect() {
        this.reset();
        this.inc(status().removed);
      },
    });
    const deadLetters = () => this.deadLetterMaintenance.status();
    new Counter({
      name: 'brook_dead_letters_removed_total',
      help: 'Dead letters this host removed by dead-letter retention as the controller, per group and topic.',
      labelNames: ['group', 'topic'],
      registers,
      collect() {
        this.reset();
        for (const { group, topic, removed } of deadLetters().removed) this.inc({ group, topic }, removed);
      },
    });
  }
}
