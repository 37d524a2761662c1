import { InvalidArgumentError, assertValidName, type Ordering } from '@brook/broker';
import { SUBSCRIBE_OPTION_KEYS, decoratorOf, type SubscriptionMetadata } from './subscribe.decorator.js';

/** The orderings a consumer runs with (the library's `Ordering`). */
export const ORDERINGS = ['partition', 'key', 'none'] as const satisfies readonly Ordering[];

/** Options that only a share group takes. */
const SHARE_ONLY = ['acquisitionLockMs', 'deliveryLimit'] as const;

/**
 * Refuses a subscription that cannot start, with an error naming `origin` (`Class.method`): an
 * invalid topic or group name, an unknown option, a value out of range, or options that contradict
 * each other or the decorator.
 */
export function validateSubscription(origin: string, { kind, topic, group, options }: SubscriptionMetadata): void {
  const decorator = decoratorOf(kind);
  try {
    assertValidName('topic', topic);
    assertValidName('group', group);
  } catch (error) {
    throw new InvalidArgumentError(`${origin}: ${decorator}(${JSON.stringify(topic)}, ${JSON.stringify(group)}): ${(error as Error).message}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`${origin}: ${decorator} options must be an object like { retry, concurrency }.`);
  }
  for (const key of Object.keys(options)) {
    if (!(SUBSCRIBE_OPTION_KEYS as string[]).includes(key)) {
      throw new InvalidArgumentError(`${origin}: unknown ${decorator} option '${key}'; the options are ${SUBSCRIBE_OPTION_KEYS.join(', ')}.`);
    }
  }
  const { concurrency, fromBeginning, ordering, share } = options;
  assertInteger(origin, decorator, 'concurrency', concurrency, 10_000);
  if (fromBeginning !== undefined && typeof fromBeginning !== 'boolean') {
    throw new InvalidArgumentError(`${origin}: ${decorator} fromBeginning must be a boolean.`);
  }
  if (ordering !== undefined && !(ORDERINGS as readonly string[]).includes(ordering)) {
    throw new InvalidArgumentError(`${origin}: ${decorator} ordering must be one of ${ORDERINGS.map((o) => `'${o}'`).join(', ')}; got ${JSON.stringify(ordering)}.`);
  }
  if (share !== undefined && typeof share !== 'boolean') {
    throw new InvalidArgumentError(`${origin}: ${decorator} share must be a boolean.`);
  }
  if (kind === 'batch') {
    assertBatchOptions(origin, options);
    return;
  }
  for (const key of SHARE_ONLY) {
    assertInteger(origin, decorator, key, options[key], Number.MAX_SAFE_INTEGER);
    if (options[key] !== undefined && share !== true) {
      throw new InvalidArgumentError(`${origin}: @Subscribe ${key} applies to share groups only; add share: true, or remove ${key}.`);
    }
  }
  if (share === true) assertShareRetry(origin, options);
  if (share === true && ordering !== undefined) {
    throw new InvalidArgumentError(
      `${origin}: @Subscribe { share: true } takes no ordering: a share group hands any message to any member, in no order. ` +
        `Remove ordering, or drop share and use ordering: 'key' to keep each key's messages in order.`,
    );
  }
}

/** A share group counts deliveries itself (`deliveryLimit`) and always dead-letters at the limit. */
function assertShareRetry(origin: string, { retry, deadLetter }: SubscriptionMetadata['options']): void {
  if (retry?.attempts !== undefined) {
    throw new InvalidArgumentError(`${origin}: @Subscribe { share: true } counts deliveries, not attempts: set deliveryLimit instead of retry.attempts.`);
  }
  if (retry?.mode !== undefined) {
    throw new InvalidArgumentError(`${origin}: @Subscribe { share: true } always releases a failed message for another delivery; leave out retry.mode.`);
  }
  if (deadLetter?.enabled !== undefined) {
    throw new InvalidArgumentError(`${origin}: @Subscribe { share: true } always dead-letters a message that reaches deliveryLimit; leave out deadLetter.enabled.`);
  }
}

function assertBatchOptions(origin: string, options: SubscriptionMetadata['options']): void {
  if (options.ordering !== undefined && options.ordering !== 'partition') {
    throw new InvalidArgumentError(
      `${origin}: @SubscribeBatch takes ordering: 'partition' only — a batch is a partition's consecutive messages in offset order; ` +
        `use @Subscribe with ordering: '${options.ordering}' to handle messages of a partition side by side.`,
    );
  }
  const shareKey = (['share', ...SHARE_ONLY] as const).find((key) => options[key] !== undefined && options[key] !== false);
  if (shareKey !== undefined) {
    throw new InvalidArgumentError(
      `${origin}: @SubscribeBatch cannot consume as a share group (it sets ${shareKey}): a share group hands out single messages, not a partition's batches; ` +
        `use @Subscribe with share: true.`,
    );
  }
}

function assertInteger(origin: string, decorator: string, name: string, value: unknown, max: number): void {
  if (value === undefined) return;
  if (!(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer from 1 to ${max}`;
    throw new InvalidArgumentError(`${origin}: ${decorator} ${name} must be ${range}; got ${JSON.stringify(value)}.`);
  }
}

/** Refuses two handlers for one (topic, group): a group has one handler per topic. */
export function assertOneHandlerPerTopic(handlers: ReadonlyArray<{ origin: string; subscription: SubscriptionMetadata }>): void {
  const owners = new Map<string, string>();
  for (const { origin, subscription } of handlers) {
    const key = `${subscription.topic}\u0000${subscription.group}`;
    const other = owners.get(key);
    if (other !== undefined) {
      throw new InvalidArgumentError(
        `${other} and ${origin} both subscribe to '${subscription.topic}' in group '${subscription.group}'; a group has one handler per topic — ` +
          `merge them, or use another group name for one of them.`,
      );
    }
    owners.set(key, origin);
  }
}
