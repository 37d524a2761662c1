/**
 * What is left of a send's `deliveryTimeoutMs` for one attempt: at most `commandTimeoutMs`, at
 * least 1 ms. Deadlines are `performance.now()` times, immune to wall-clock steps.
 */
export function remainingMs(deadline: number, commandTimeoutMs: number): number {
  return Math.max(1, Math.min(commandTimeoutMs, Math.ceil(deadline - performance.now())));
}
