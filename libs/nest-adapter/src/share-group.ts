import { InvalidArgumentError, type RetryOptions, type ShareConsumer, type ShareMessagePayload } from '@brook/broker';
import { watchConsumer, type GroupRunner, type GroupRunnerDeps } from './group-runner.js';
import type { GroupSettings } from './group-settings.js';
import { createHandlerInvoker } from './handler-invoker.js';
import { ShareMessageContext } from './message-context.js';
import type { DiscoveredHandler } from './subscription.explorer.js';

/** One handler's member of the share group. */
interface Member {
  consumer: ShareConsumer;
  topic: string;
  origin: string;
  retry: RetryOptions;
  handle: (payload: ShareMessagePayload) => Promise<void>;
}

/**
 * A share group: each handler gets a member of its own (a share consumer of its topic), so its
 * retry backoff, handler timeout and name in dead letters stay its own — share members own no
 * partitions, so nothing is gained by one member for several topics. Deliveries are counted by
 * the group (`deliveryLimit`) and a message at the limit is always dead-lettered, so the module's
 * `retry.attempts`, `retry.mode` and `deadLetter`, meant for exclusive groups, do not apply here.
 */
export class ShareGroup implements GroupRunner {
  private readonly members: Member[] = [];
  private stopped = 0;
  private started = false;

  constructor(
    readonly settings: GroupSettings,
    private readonly deps: GroupRunnerDeps,
  ) {}

  get topics(): string[] {
    return this.members.map((member) => member.topic);
  }

  get running(): boolean {
    return this.started && this.stopped === 0;
  }

  async add({ instance, methodName, origin, subscription }: DiscoveredHandler): Promise<void> {
    const { topic, group, options } = subscription;
    const { codec, maxBatchSize, maxBytesPerPartition } = this.deps.options.consumer ?? {};
    const { acquisitionLockMs, deliveryLimit } = this.settings;
    let consumer: ShareConsumer;
    try {
      consumer = this.deps.brook.shareConsumer(definedOnly({ group, acquisitionLockMs, deliveryLimit, codec, maxBatchSize, maxBytesPerPartition }));
      await consumer.subscribe({ topic, fromBeginning: options.fromBeginning });
    } catch (error) {
      throw new InvalidArgumentError(`${origin}: @Subscribe('${topic}', '${group}', { share: true }) cannot start: ${(error as Error).message}`, { cause: error });
    }
    watchConsumer(consumer, group, this.deps.logger, this.deps.logging, () => this.stopped++);
    consumer.on('lock.lost', ({ topic: lost, partition, offset, deliveryCount }) =>
      this.deps.logger.warn(`${origin} outlived its lock on ${lost}[${partition}]@${offset} in '${group}' (delivery ${deliveryCount}); it is delivered again`),
    );
    const invoke = createHandlerInvoker<ShareMessageContext>(this.deps.contextCreator, instance, methodName);
    this.members.push({
      consumer,
      topic,
      origin,
      retry: shareRetry(this.deps.options.retry, options.retry),
      handle: (payload) => invoke(payload.message.value, new ShareMessageContext(payload)),
    });
  }

  async start(): Promise<void> {
    const { concurrency } = this.settings;
    await Promise.all(
      this.members.map(async ({ consumer, origin, retry, handle }) => {
        try {
          await consumer.run({ concurrency, retry, handlerName: origin, eachMessage: handle });
        } catch (error) {
          throw new InvalidArgumentError(`${origin}: share group '${this.settings.group}' cannot start: ${(error as Error).message}`, { cause: error });
        }
      }),
    );
    this.started = true;
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map(({ consumer }) => consumer.stop()));
  }
}

/** The module's retry defaults under the handler's, without what a share group counts itself. */
function shareRetry(defaults: RetryOptions = {}, own: RetryOptions = {}): RetryOptions {
  const { attempts: _attempts, mode: _mode, ...base } = defaults;
  const backoff = { ...base.backoff, ...definedOnly(own.backoff ?? {}) };
  return definedOnly({ ...base, ...definedOnly(own), backoff: Object.keys(backoff).length > 0 ? backoff : undefined });
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
