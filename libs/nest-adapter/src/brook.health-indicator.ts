import { Injectable } from '@nestjs/common';
import { Brook } from '@brook/broker';
import { BrokerLifecycle } from './broker.lifecycle.js';

/** A `@nestjs/terminus` indicator result: `{ [key]: { status, …details } }`. */
export type BrookHealthResult = Record<string, { status: 'up' | 'down'; [detail: string]: unknown }>;

/** Options of {@link BrookHealthIndicator.isHealthy}. */
export interface BrookHealthOptions {
  /** Report down when a group's lag on a topic exceeds this many messages. @defaultValue no limit */
  maxLag?: number;
}

/**
 * Health of the module for `@nestjs/terminus`: Redis answers, every group's consumer runs, and
 * (optionally) no group lags more than `maxLag` messages behind on a topic.
 *
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.brook.isHealthy('brook', { maxLag: 10_000 })]); }
 * ```
 */
@Injectable()
export class BrookHealthIndicator {
  constructor(
    private readonly brook: Brook,
    private readonly lifecycle: BrokerLifecycle,
  ) {}

  async isHealthy(key = 'brook', options: BrookHealthOptions = {}): Promise<BrookHealthResult> {
    try {
      await this.brook.admin().ping();
    } catch (error) {
      return { [key]: { status: 'down', redis: 'down', message: (error as Error).message } };
    }
    const groups = this.lifecycle.status();
    const stopped = groups.filter((group) => !group.running).map((group) => group.group);
    if (stopped.length > 0) return { [key]: { status: 'down', redis: 'up', message: `Consumers not running: ${stopped.join(', ')}` } };
    const details: Record<string, unknown> = { redis: 'up', consumers: groups.map((group) => group.group) };
    if (options.maxLag !== undefined) {
      const admin = this.brook.admin();
      const pairs = groups.flatMap(({ group, topics }) => topics.map((topic) => ({ group, topic })));
      const described = await Promise.all(pairs.map((pair) => admin.describeGroup(pair)));
      const lag = Object.fromEntries(
        pairs.map(({ group, topic }, i) => [`${group}/${topic}`, described[i].partitions.reduce((sum, partition) => sum + (partition.lag ?? 0), 0)]),
      );
      details.lag = lag;
      const behind = Object.entries(lag).filter(([, value]) => value > options.maxLag!);
      if (behind.length > 0) {
        return { [key]: { status: 'down', ...details, message: `Lag over ${options.maxLag}: ${behind.map(([name, value]) => `${name}=${value}`).join(', ')}` } };
      }
    }
    return { [key]: { status: 'up', ...details } };
  }
}
