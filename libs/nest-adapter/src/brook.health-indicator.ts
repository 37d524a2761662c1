import { Injectable } from '@nestjs/common';
import { Brook, InvalidArgumentError } from '@brook/broker';
import { BrokerLifecycle, type GroupStatus } from './broker.lifecycle.js';

/** A `@nestjs/terminus` indicator result: `{ [key]: { status, …details } }`. */
export type BrookHealthResult = Record<string, { status: 'up' | 'down'; [detail: string]: unknown }>;

/** Options of {@link BrookHealthIndicator.isHealthy}. */
export interface BrookHealthOptions {
  /** Report down when a group's lag on a topic exceeds this many messages. @defaultValue no limit */
  maxLag?: number;
  /** The check answers within this time: 'down', naming what did not answer, when Redis is slower. @defaultValue `1_000` */
  timeoutMs?: number;
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 1_000;

/** A check that stopped early with its verdict. */
class Down {
  constructor(readonly details: Record<string, unknown>) {}
}

/**
 * Health of the module for `@nestjs/terminus`: Redis answers, every group's consumer runs, every
 * subscribed topic exists, and (optionally) no group lags more than `maxLag` messages behind on a
 * topic. It answers within `timeoutMs` (1 s by default) and never throws: a failure of any kind is
 * 'down' with a `message` saying why.
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
    const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
      throw new InvalidArgumentError(`isHealthy's timeoutMs must be a positive integer of milliseconds; got ${String(timeoutMs)}.`);
    }
    const progress = { stage: 'ping Redis', redis: 'down' as 'up' | 'down' };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Record<string, unknown>>((resolve) => {
      timer = setTimeout(() => resolve({ status: 'down', redis: progress.redis, message: `No answer within ${timeoutMs} ms while trying to ${progress.stage}.` }), timeoutMs);
    });
    const checked = this.check(options, progress).then(
      (details) => details,
      (error: unknown) => (error instanceof Down ? error.details : { status: 'down', redis: progress.redis, message: `Could not ${progress.stage}: ${messageOf(error)}` }),
    );
    try {
      return { [key]: (await Promise.race([checked, timedOut])) as BrookHealthResult[string] };
    } finally {
      clearTimeout(timer);
    }
  }

  private async check(options: BrookHealthOptions, progress: { stage: string; redis: 'up' | 'down' }): Promise<Record<string, unknown>> {
    const admin = this.brook.admin();
    try {
      await admin.ping();
    } catch (error) {
      throw new Down({ status: 'down', redis: 'down', message: messageOf(error) });
    }
    progress.redis = 'up';
    const groups = this.lifecycle.status();
    const stopped = groups.filter((group) => !group.running).map((group) => group.group);
    if (stopped.length > 0) throw new Down({ status: 'down', redis: 'up', message: `Consumers not running: ${stopped.join(', ')}` });
    const details: Record<string, unknown> = { redis: 'up', consumers: groups.map((group) => group.group) };
    if (groups.length > 0) {
      progress.stage = 'list topics';
      const existing = new Set((await admin.listTopics()).map((topic) => topic.topic));
      const missing = subscriptions(groups).filter(({ topic }) => !existing.has(topic));
      if (missing.length > 0) {
        throw new Down({
          status: 'down',
          ...details,
          message: `Subscribed topics do not exist (deleted?): ${missing.map(({ group, topic }) => `'${topic}' of group '${group}'`).join(', ')}; create them again or remove their handlers.`,
        });
      }
    }
    if (options.maxLag !== undefined) {
      progress.stage = 'describe the groups';
      const pairs = subscriptions(groups);
      const described = await Promise.all(pairs.map((pair) => admin.describeGroup(pair)));
      const lag = Object.fromEntries(
        pairs.map(({ group, topic }, i) => [`${group}/${topic}`, described[i].partitions.reduce((sum, partition) => sum + (partition.lag ?? 0), 0)]),
      );
      details.lag = lag;
      const behind = Object.entries(lag).filter(([, value]) => value > options.maxLag!);
      if (behind.length > 0) {
        throw new Down({ status: 'down', ...details, message: `Lag over ${options.maxLag}: ${behind.map(([name, value]) => `${name}=${value}`).join(', ')}` });
      }
    }
    return { status: 'up', ...details };
  }
}

function subscriptions(groups: GroupStatus[]): Array<{ group: string; topic: string }> {
  return groups.flatMap(({ group, topics }) => topics.map((topic) => ({ group, topic })));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
