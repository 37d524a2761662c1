import type { BrookContext } from '../client/context.js';
import { fromStored, type TopicConfig } from './topic.js';

interface CachedTopic {
  config: TopicConfig | undefined;
  readAt: number;
}

/**
 * Reads topic configurations from the registry hash and caches them for `metadataMaxAgeMs`, the way
 * Kafka clients cache metadata. Producers refresh early when Redis tells them a partition is gone.
 */
export class TopicRegistry {
  private readonly cache = new Map<string, CachedTopic>();
  private readonly inFlight = new Map<string, Promise<TopicConfig | undefined>>();

  constructor(private readonly ctx: BrookContext) {}

  /** The topic's configuration, from cache when fresh enough; `undefined` when it does not exist. */
  async get(topic: string, options: { fresh?: boolean } = {}): Promise<TopicConfig | undefined> {
    const cached = this.cache.get(topic);
    if (!options.fresh && cached !== undefined && Date.now() - cached.readAt < this.ctx.options.metadataMaxAgeMs) {
      return cached.config;
    }
    let pending = this.inFlight.get(topic);
    if (pending === undefined) {
      pending = this.read(topic).finally(() => this.inFlight.delete(topic));
      this.inFlight.set(topic, pending);
    }
    return pending;
  }

  /** A cached configuration without I/O, when present and fresh. */
  peek(topic: string): TopicConfig | undefined {
    const cached = this.cache.get(topic);
    if (cached !== undefined && Date.now() - cached.readAt < this.ctx.options.metadataMaxAgeMs) return cached.config;
    return undefined;
  }

  /** The last configuration read of a topic known to exist, however old: for producing through an outage. */
  stale(topic: string): TopicConfig | undefined {
    return this.cache.get(topic)?.config;
  }

  /** Every registered topic, sorted by name. */
  async list(): Promise<TopicConfig[]> {
    await this.ctx.ready();
    const all = await this.ctx.run('list topics', () => this.ctx.client.hgetall(this.ctx.keys.topics()));
    const now = Date.now();
    const configs = Object.entries(all).map(([topic, json]) => fromStored(topic, json));
    for (const config of configs) this.cache.set(config.topic, { config, readAt: now });
    return configs.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  }

  /** Records what an admin call just wrote, so this process sees it at once. */
  remember(topic: string, config: TopicConfig | undefined): void {
    this.cache.set(topic, { config, readAt: Date.now() });
  }

  private async read(topic: string): Promise<TopicConfig | undefined> {
    await this.ctx.ready();
    const json = await this.ctx.run(`read topic '${topic}'`, () => this.ctx.client.hget(this.ctx.keys.topics(), topic));
    const config = json === null ? undefined : fromStored(topic, json);
    this.remember(topic, config);
    return config;
  }
}
