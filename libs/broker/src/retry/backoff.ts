/** How long to wait between attempts. */
export interface BackoffPolicy {
  /** `'exponential'` multiplies the delay per attempt; `'fixed'` keeps `initialMs`. */
  type: 'exponential' | 'fixed';
  /** Delay before the first retry. */
  initialMs: number;
  /** Factor per attempt (exponential only). */
  multiplier: number;
  /** Cap on the delay. */
  maxMs: number;
  /** Random spread as a fraction of the delay: 0.2 means ±20 %. */
  jitter: number;
}

/** The delay before retry number `retry` (1 for the first retry); `random` in [0, 1) spreads it by the jitter. */
export function backoffDelay(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  const growth = policy.type === 'fixed' ? 1 : policy.multiplier ** Math.max(0, retry - 1);
  // After enough retries the growth overflows to Infinity; the cap applies long before.
  const capped = Number.isFinite(growth) ? Math.min(policy.initialMs * growth, policy.maxMs) : policy.maxMs;
  const spread = capped * policy.jitter * (random() * 2 - 1);
  // Jitter spreads the delay, but never past the cap.
  return Math.min(policy.maxMs, Math.max(0, Math.round(capped + spread)));
}
