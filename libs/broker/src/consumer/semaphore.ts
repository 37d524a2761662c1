/** Limits how many partitions run handlers at the same time (`partitionsConsumedConcurrently`). */
export class Semaphore {
  private readonly waiting: Array<() => void> = [];
  private available: number;

  constructor(permits: number) {
    this.available = permits;
  }

  /** Resolves with a release function once a permit is free. */
  async acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available--;
    } else {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
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
