/** Limits how many handlers run at the same time (`concurrency`). */
export class Semaphore {
  private readonly waiting: Array<() => void> = [];
  private available: number;

  constructor(permits: number) {
    this.available = permits;
  }

  /** A permit when one is free now, else `undefined` (no promise: the common path costs nothing). */
  tryAcquire(): (() => void) | undefined {
    if (this.available <= 0) return undefined;
    this.available--;
    return this.releaser();
  }

  /** Resolves with a release function once a permit is free. */
  async acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available--;
    } else {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.available++;
    };
  }
}

/**
 * One runner's hold on a handler slot: kept across the messages of its turn, given back while the
 * runner waits (a blocking retry's backoff, a pause, the end of its turn).
 */
export class SlotHolder {
  private release: (() => void) | undefined;

  constructor(private readonly slots: Semaphore) {}

  async hold(): Promise<void> {
    if (this.release !== undefined) return;
    this.release = this.slots.tryAcquire() ?? (await this.slots.acquire());
  }

  free(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }
}
