/** One watched deadline; `settle()` it when the work finished in time. */
export interface Deadline {
  readonly at: number;
  settled: boolean;
  readonly onExpired: () => void;
}

/**
 * Deadlines of one fixed length, watched by a single timer instead of one timer per handler call:
 * they expire in the order they were set, so the timer only ever waits for the oldest unsettled one.
 * Settling costs a flag; settled deadlines at the head are dropped as they settle.
 */
export class Deadlines {
  private readonly queue: Deadline[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /** Calls `onExpired` once `ms` from now, unless the deadline was settled before. */
  watch(onExpired: () => void): Deadline {
    const deadline: Deadline = { at: performance.now() + this.ms, settled: false, onExpired };
    this.queue.push(deadline);
    if (this.timer === undefined) this.arm(this.ms);
    return deadline;
  }

  settle(deadline: Deadline): void {
    deadline.settled = true;
    this.dropSettled();
  }

  private dropSettled(): void {
    const { queue } = this;
    while (this.head < queue.length && queue[this.head].settled) this.head++;
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    } else if (this.head > 1_024 && this.head * 2 > queue.length) {
      queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(0, delayMs));
    // The consumer's own connections keep the process alive; a watch alone does not.
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    const { queue } = this;
    while (this.head < queue.length) {
      const deadline = queue[this.head];
      if (!deadline.settled && deadline.at > now) break;
      this.head++;
      if (!deadline.settled) {
        deadline.settled = true;
        deadline.onExpired();
      }
    }
    this.dropSettled();
    if (this.head < queue.length) this.arm(queue[this.head].at - now);
  }
}
