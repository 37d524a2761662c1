import { assertInteger } from '../client/brook.options.js';
import { InvalidArgumentError } from '../errors/errors.js';

/** Options of `brook.controllerLease()`. */
export interface ControllerLeaseOptions {
  /** How long a term lasts without renewal: when the leader dies, another candidate takes over within this time. @defaultValue `10_000` */
  leaseMs?: number;
  /** How often the leader renews and the others check; at most a third of `leaseMs`. @defaultValue a third of `leaseMs` */
  renewIntervalMs?: number;
  /** Names this candidate in the lease (shown as the leader to the others). @defaultValue `'<clientId>-<random UUID>'` */
  holderId?: string;
}

/** Options with every default applied. */
export interface ResolvedControllerLeaseOptions {
  readonly leaseMs: number;
  readonly renewIntervalMs: number;
  readonly holderId: string;
}

/** Defaults of {@link ControllerLeaseOptions} (`renewIntervalMs` and `holderId` are derived). */
export const DEFAULT_CONTROLLER_LEASE_OPTIONS = { leaseMs: 10_000 } satisfies Partial<ResolvedControllerLeaseOptions>;

const HOLDER_ID = /^[A-Za-z0-9._:@-]{1,200}$/;

/** Validates options and applies defaults; `defaultHolderId` is used when none is given. */
export function resolveControllerLeaseOptions(options: ControllerLeaseOptions = {}, defaultHolderId: string): ResolvedControllerLeaseOptions {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('controllerLease() options must be an object like { leaseMs }.');
  const leaseMs = options.leaseMs ?? DEFAULT_CONTROLLER_LEASE_OPTIONS.leaseMs;
  assertInteger('leaseMs', leaseMs, 30, 3_600_000);
  const renewIntervalMs = options.renewIntervalMs ?? Math.floor(leaseMs / 3);
  assertInteger('renewIntervalMs', renewIntervalMs, 10, Math.floor(leaseMs / 3));
  const holderId = options.holderId ?? defaultHolderId;
  if (typeof holderId !== 'string' || !HOLDER_ID.test(holderId)) {
    throw new InvalidArgumentError(`holderId must be 1 to 200 of A-Z, a-z, 0-9, '.', '_', ':', '@', '-'; got ${JSON.stringify(holderId)}.`);
  }
  return Object.freeze({ leaseMs, renewIntervalMs, holderId });
}
