import type { BrookContext } from '../client/context.js';
import { assertInteger } from '../client/brook.options.js';
import { readGroupRegistry, requireGroupTopic } from '../groups/group-admin.js';
import { range } from '../topics/topic-admin.js';
import type { TopicRegistry } from '../topics/topic-registry.js';
import { DeadLetterIndex } from './dead-letter-index.js';

/** How long dead letters are kept, per group and topic. */
export interface DeadLetterRetention {
  /** Dead letters older than this (since they were dead-lettered) are removed; 0 keeps them by age. @defaultValue 14 days */
  maxAgeMs: number;
  /** Each partition keeps at most this many of the group's dead letters, the oldest go first; 0: no limit. @defaultValue `100_000` */
  maxCount: number;
}

export const DEFAULT_DEAD_LETTER_RETENTION = { maxAgeMs: 14 * 24 * 3_600_000, maxCount: 100_000 } as const satisfies DeadLetterRetention;

/** What one retention pass removed for a group on a topic. */
export interface DeadLetterRetentionResult {
  topic: string;
  group: string;
  removed: number;
}

/** Dead letters removed per call of the retention script: keeps each script short. */
const TRIM_BATCH = 1_000;

/**
 * Dead-letter retention: settings per group and topic (defaults otherwise), enforced by the active
 * controller with `enforce()`. Removal goes through the index's scripts, so searches never see a
 * removed dead letter.
 */
export class DeadLetterRetentionPolicy {
  private readonly index: DeadLetterIndex;

  constructor(
    private readonly ctx: BrookContext,
    private readonly registry: TopicRegistry,
  ) {
    this.index = new DeadLetterIndex(ctx);
  }

  /** The retention of a group's dead letters on a topic (the defaults when none was set). */
  async get({ topic, group }: { topic: string; group: string }): Promise<DeadLetterRetention & { custom: boolean }> {
    await requireGroupTopic(this.ctx, this.registry, group, topic);
    const stored = await this.ctx.run('read dead-letter retention', () => this.ctx.client.hget(this.ctx.keys.deadLetterRetention(), `${group}/${topic}`));
    return stored === null ? { ...DEFAULT_DEAD_LETTER_RETENTION, custom: false } : { ...(JSON.parse(stored) as DeadLetterRetention), custom: true };
  }

  /** Sets the retention of a group's dead letters on a topic; the controller applies it on its next pass. */
  async set({ topic, group, maxAgeMs, maxCount }: { topic: string; group: string } & Partial<DeadLetterRetention>): Promise<DeadLetterRetention> {
    await requireGroupTopic(this.ctx, this.registry, group, topic);
    const retention = { maxAgeMs: maxAgeMs ?? DEFAULT_DEAD_LETTER_RETENTION.maxAgeMs, maxCount: maxCount ?? DEFAULT_DEAD_LETTER_RETENTION.maxCount };
    assertInteger('maxAgeMs', retention.maxAgeMs, 0);
    assertInteger('maxCount', retention.maxCount, 0);
    await this.ctx.run('store dead-letter retention', () => this.ctx.client.hset(this.ctx.keys.deadLetterRetention(), `${group}/${topic}`, JSON.stringify(retention)));
    return retention;
  }

  /** Removes what is past each group's retention on each topic it consumes; answers what was removed where. */
  async enforce(): Promise<DeadLetterRetentionResult[]> {
    await this.ctx.ready();
    const [groups, settings] = await Promise.all([
      readGroupRegistry(this.ctx),
      this.ctx.run('read dead-letter retention', () => this.ctx.client.hgetall(this.ctx.keys.deadLetterRetention())),
    ]);
    const results: DeadLetterRetentionResult[] = [];
    for (const [group, topics] of groups) {
      for (const topic of topics) {
        const config = await this.registry.get(topic);
        if (config === undefined) continue;
        const stored = settings[`${group}/${topic}`];
        const retention: DeadLetterRetention = stored === undefined ? DEFAULT_DEAD_LETTER_RETENTION : (JSON.parse(stored) as DeadLetterRetention);
        if (retention.maxAgeMs === 0 && retention.maxCount === 0) continue;
        let removed = 0;
        for (const partition of range(config.partitions)) {
          for (;;) {
            const step = await this.index.trim({ topic, partition, group }, { ...retention, maxEntries: TRIM_BATCH });
            removed += step.removed.length;
            if (!step.more) break;
          }
        }
        if (removed > 0) results.push({ topic, group, removed });
      }
    }
    return results;
  }
}
