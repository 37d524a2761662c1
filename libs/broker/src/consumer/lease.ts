/**
 * A partition lease as its holder sees it. The holder counts the lease from the moment it *sent*
 * the acquisition or renewal (Redis started the lease later), on the monotonic clock, and stops a
 * little before that deadline: when no renewal came back in time, `onExpire` fires and the worker
 * aborts its handlers, whether or not Redis can be reached to say so.
 */
export class PartitionLease {
  private validUntil: number;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    readonly token: string,
    private readonly leaseMs: number,
    sentAt: number,
    private readonly onExpire: () => void,
  ) {
    this.validUntil = this.deadline(sentAt);
    this.arm();
  }

  /** Whether the lease surely still holds in Redis. */
  get valid(): boolean {
    return !this.ended && performance.now() < this.validUntil;
  }

  /** Milliseconds until the local deadline. */
  get remainingMs(): number {
    return Math.max(0, this.validUntil - performance.now());
  }

  /** A renewal sent at `sentAt` (performance.now()) succeeded. */
  renewed(sentAt: number): void {
    if (this.ended) return;
    this.validUntil = Math.max(this.validUntil, this.deadline(sentAt));
    this.arm();
  }

  /** Stops the expiry timer (the worker is gone). */
  end(): void {
    this.ended = true;
    clearTimeout(this.timer);
  }

  private deadline(sentAt: number): number {
    // A tenth of the lease (at most a second) of margin: handlers get that long to honour their
    // aborted signal before another member can take the partition.
    return sentAt + this.leaseMs - Math.min(this.leaseMs / 10, 1_000);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.ended) return;
      if (performance.now() < this.validUntil) return this.arm();
      this.end();
      this.onExpire();
    }, Math.max(0, Math.ceil(this.validUntil - performance.now())));
  }
}
