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
  const base = policy.type === 'fixed' ? policy.initialMs : policy.initialMs * policy.multiplier ** Math.max(0, retry - 1);
  const capped = Math.min(base, policy.maxMs);
  const spread = capped * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(capped + spread));
}
