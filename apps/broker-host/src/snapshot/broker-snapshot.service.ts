import { Inject, Injectable } from '@nestjs/common';
import { UnknownGroupError, UnknownTopicError, type Brook, type GroupDescription, type GroupListing, type TopicDescription } from '@brook/broker';
import { BROOK } from '../brook/brook.tokens.js';
import type { ResolvedHostOptions } from '../config/host-options.js';
import { HOST_OPTIONS } from '../config/host-options.tokens.js';

/** Every topic and group as read at one moment, for metrics and health. */
export interface BrokerSnapshot {
  /** When the read started (ms since the epoch). */
  takenAt: number;
  /** How long the read took. */
  durationMs: number;
  topics: TopicDescription[];
  groups: Array<{ listing: GroupListing; topics: GroupDescription[] }>;
  /** Partitions visited, topics and groups together. */
  partitionsRead: number;
  /** True when the partition budget ran out and some topics or groups were left out. */
  truncated: boolean;
  /** Set when Redis could not be read; everything else is then empty. */
  error: string | null;
}

/** Topics or groups described at the same time; each one is a handful of pipelined calls. */
const CONCURRENCY = 16;
/**
 * Longest a read may take before the snapshot reports Redis as not answering. While Redis is
 * down, the client waits for its reconnects; a scrape must not wait that long.
 */
const READ_TIMEOUT_MS = 5_000;

/**
 * Reads every topic and group once per `metricsCacheMs` at most, however many scrapes and health
 * probes ask, and visits at most `metricsMaxPartitions` partitions per read: the cost a scrape can
 * put on Redis is bounded by configuration, not by how often it is called.
 */
@Injectable()
export class BrokerSnapshotService {
  private cached: BrokerSnapshot | undefined;
  private reading: Promise<BrokerSnapshot> | undefined;

  constructor(
    @Inject(BROOK) private readonly brook: Brook,
    @Inject(HOST_OPTIONS) private readonly options: ResolvedHostOptions,
  ) {}

  /** The latest snapshot, read again when older than `metricsCacheMs`; concurrent callers share one read. */
  get(): Promise<BrokerSnapshot> {
    if (this.cached !== undefined && Date.now() - this.cached.takenAt < this.options.metricsCacheMs) return Promise.resolve(this.cached);
    this.reading ??= this.read()
      .then((snapshot) => (this.cached = snapshot))
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  private async read(): Promise<BrokerSnapshot> {
    const takenAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<BrokerSnapshot>((resolve) => {
      timer = setTimeout(
        () => resolve(failed(takenAt, `Redis did not answer within ${READ_TIMEOUT_MS / 1_000} s`)),
        READ_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([this.readAll(takenAt), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async readAll(takenAt: number): Promise<BrokerSnapshot> {
    const admin = this.brook.admin();
    let budget = this.options.metricsMaxPartitions;
    let truncated = false;
    const spend = (partitions: number) => {
      if (partitions > budget) {
        truncated = true;
        return false;
      }
      budget -= partitions;
      return true;
    };
    try {
      const [listed, groups] = await Promise.all([admin.listTopics(), admin.listGroups()]);
      const partitionsOf = new Map(listed.map(({ topic, partitions }) => [topic, partitions]));
      const topicNames = listed.filter(({ partitions }) => spend(partitions)).map(({ topic }) => topic);
      const topics = (await mapLimit(topicNames, (topic) => skipGone(admin.describeTopic(topic, { maxLagBytes: this.options.maxReplicaLagBytes })))).filter(isDefined);

      const pairs = groups.flatMap((listing) => listing.topics.filter((topic) => partitionsOf.has(topic) && spend(partitionsOf.get(topic)!)).map((topic) => ({ listing, topic })));
      const described = await mapLimit(pairs, ({ listing, topic }) => skipGone(admin.describeGroup({ group: listing.group, topic })));
      const byGroup = new Map(groups.map((listing) => [listing.group, { listing, topics: [] as GroupDescription[] }]));
      described.forEach((description, i) => {
        if (description !== undefined) byGroup.get(pairs[i].listing.group)!.topics.push(description);
      });
      return {
        takenAt,
        durationMs: Date.now() - takenAt,
        topics,
        groups: [...byGroup.values()],
        partitionsRead: this.options.metricsMaxPartitions - budget,
        truncated,
        error: null,
      };
    } catch (error) {
      return failed(takenAt, error instanceof Error ? error.message : String(error));
    }
  }
}

function failed(takenAt: number, error: string): BrokerSnapshot {
  return { takenAt, durationMs: Date.now() - takenAt, topics: [], groups: [], partitionsRead: 0, truncated: false, error };
}

/** A topic or group deleted between listing and describing it is simply not in the snapshot. */
async function skipGone<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof UnknownTopicError || error instanceof UnknownGroupError) return undefined;
    throw error;
  }
}

async function mapLimit<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
