import { InvalidArgumentError, type Ordering } from '@brook/broker';
import { decoratorOf, type SubscriptionKind, type SubscriptionMetadata } from './subscribe.decorator.js';

/** How one group's consumer runs; every handler of the group agreed on it. */
export interface GroupSettings {
  group: string;
  /** Single messages (`@Subscribe`) or batches (`@SubscribeBatch`). */
  kind: SubscriptionKind;
  /** A share group rather than an exclusive one. */
  share: boolean;
  /** Unset for share groups, which have no order. */
  ordering: Ordering | undefined;
  /** Handlers in flight; unset leaves the library's default for the ordering. */
  concurrency: number | undefined;
  acquisitionLockMs: number | undefined;
  deliveryLimit: number | undefined;
}

/** One handler's say in its group's settings. */
interface Claim<T> {
  origin: string;
  value: T;
  /** false when the handler left the option at its default. */
  explicit: boolean;
}

/** Options that must agree, with the value an unset option stands for (`undefined`: no say). */
const SHARED_OPTIONS = {
  share: false,
  ordering: 'partition',
  concurrency: undefined,
  acquisitionLockMs: undefined,
  deliveryLimit: undefined,
} as const satisfies Record<string, unknown>;

type SharedOption = keyof typeof SHARED_OPTIONS;

/**
 * The settings of each group's consumer. Handlers of one group share one consumer, so they must be
 * of one kind and agree on every option in {@link SHARED_OPTIONS}; a disagreement fails with an
 * error naming both handlers and the option. An unset `share` or `ordering` means its default
 * (exclusive, `'partition'`), since the handler relies on it; an unset number defers to the others.
 */
export function resolveGroupSettings(handlers: ReadonlyArray<{ origin: string; subscription: SubscriptionMetadata }>): Map<string, GroupSettings> {
  const byGroup = new Map<string, Array<{ origin: string; subscription: SubscriptionMetadata }>>();
  for (const handler of handlers) {
    const list = byGroup.get(handler.subscription.group) ?? [];
    list.push(handler);
    byGroup.set(handler.subscription.group, list);
  }
  const settings = new Map<string, GroupSettings>();
  for (const [group, members] of byGroup) {
    const kind = agreeOnKind(group, members);
    const agreed = (option: SharedOption) => agree(group, option, members);
    const share = agreed('share') === true;
    settings.set(group, {
      group,
      kind,
      share,
      ordering: share ? undefined : ((agreed('ordering') as Ordering | undefined) ?? 'partition'),
      concurrency: agreed('concurrency') as number | undefined,
      acquisitionLockMs: agreed('acquisitionLockMs') as number | undefined,
      deliveryLimit: agreed('deliveryLimit') as number | undefined,
    });
  }
  return settings;
}

function agreeOnKind(group: string, members: ReadonlyArray<{ origin: string; subscription: SubscriptionMetadata }>): SubscriptionKind {
  const [first] = members;
  const other = members.find((member) => member.subscription.kind !== first.subscription.kind);
  if (other !== undefined) {
    throw new InvalidArgumentError(
      `${first.origin} is ${decoratorOf(first.subscription.kind)} and ${other.origin} is ${decoratorOf(other.subscription.kind)} in group '${group}', ` +
        `which shares one consumer: it runs either single messages or batches. Use another group name for one of them.`,
    );
  }
  return first.subscription.kind;
}

function agree(group: string, option: SharedOption, members: ReadonlyArray<{ origin: string; subscription: SubscriptionMetadata }>): unknown {
  let chosen: Claim<unknown> | undefined;
  for (const { origin, subscription } of members) {
    const set = subscription.options[option];
    const claim: Claim<unknown> = { origin, value: set ?? SHARED_OPTIONS[option], explicit: set !== undefined };
    if (claim.value === undefined) continue;
    if (chosen !== undefined && chosen.value !== claim.value) {
      throw new InvalidArgumentError(
        `${describe(chosen, option)} and ${describe(claim)} for group '${group}', which shares one consumer; use the same value` +
          (option === 'share' ? ' — a group name is either exclusive or share — or another group name.' : '.'),
      );
    }
    if (chosen === undefined || (claim.explicit && !chosen.explicit)) chosen = claim;
  }
  return chosen?.value;
}

/** "A.one sets ordering 'key'", "B.two has 'partition' (the default)". */
function describe({ origin, value, explicit }: Claim<unknown>, option?: string): string {
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  return `${origin} ${explicit ? 'sets' : 'has'} ${option === undefined ? '' : `${option} `}${shown}${explicit ? '' : ' (the default)'}`;
}
