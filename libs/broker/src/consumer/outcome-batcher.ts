import { retryRetriable } from '../client/io-retry.js';
import type { LogEntry } from '../redis/packed-entries.js';
import type { ParkedMessage } from '../redis/specs/transitions.js';
import type { MessageSource, PartitionStore } from './partition-store.js';

/** What the batcher needs from its worker. */
export interface OutcomeHost {
  /** The worker can no longer commit anything (lost, lease run out): stop retrying. */
  isGone(): boolean;
  /** A script refused the worker's token (`fenced`), or Redis refused the write with an error (`error`). */
  lose(reason: 'fenced' | 'error'): void;
  reportError(operation: string, error: unknown): void;
  /** Sends with the other requests of this turn (see `WriteCoalescer`). */
  schedule(send: () => void): void;
}

/** Decisions waiting to be written to Redis together. */
interface Outcomes {
  /** Log messages whose handler succeeded. */
  acked: LogEntry[];
  /** Retried messages (from the delay queue) whose handler succeeded. */
  ackedDelayed: LogEntry[];
  /** Failed messages to park in the delay queue. */
  parked: ParkedMessage[];
}

const empty = (): Outcomes => ({ acked: [], ackedDelayed: [], parked: [] });
const size = (o: Outcomes) => o.acked.length + o.ackedDelayed.length + o.parked.length;

/**
 * Collects a worker's acknowledgements and parked retries and writes them one batch at a time:
 * under load they accumulate behind the batch in flight, so a busy partition pays a few round trips
 * per batch rather than one per message. Every write is fenced and repeatable, so a batch is retried
 * through connection trouble until the worker is gone; then what is left is dropped and the next
 * owner redelivers it.
 */
export class OutcomeBatcher {
  private outcomes = empty();
  private inFlight: Promise<void> | undefined;
  private scheduled = false;

  constructor(
    private readonly store: PartitionStore,
    private readonly host: OutcomeHost,
  ) {}

  ack(entry: LogEntry, source: MessageSource): void {
    (source === 'log' ? this.outcomes.acked : this.outcomes.ackedDelayed).push(entry);
    this.sendSoon();
  }

  park(message: ParkedMessage): void {
    this.outcomes.parked.push(message);
    this.sendSoon();
  }

  /** Resolves when everything decided so far was written (or dropped). */
  async flush(): Promise<void> {
    while (this.inFlight !== undefined || size(this.outcomes) > 0) {
      this.send();
      await this.inFlight;
    }
  }

  /** Forgets what was not sent yet: the worker is in doubt and acknowledges nothing more. */
  drop(): void {
    this.outcomes = empty();
  }

  /** Sends at the end of this turn, with what else was decided meanwhile (and other partitions' writes). */
  private sendSoon(): void {
    if (this.scheduled || this.inFlight !== undefined) return;
    this.scheduled = true;
    this.host.schedule(() => {
      this.scheduled = false;
      this.send();
    });
  }

  private send(): void {
    if (this.inFlight !== undefined || size(this.outcomes) === 0) return;
    const batch = this.outcomes;
    this.outcomes = empty();
    this.inFlight = this.write(batch).finally(() => {
      this.inFlight = undefined;
      this.sendSoon();
    });
  }

  private async write({ acked, ackedDelayed, parked }: Outcomes): Promise<void> {
    try {
      const results = await retryRetriable(
        () =>
          Promise.all([
            acked.length === 0 ? undefined : this.store.ack(acked),
            ackedDelayed.length === 0 ? undefined : this.store.ackDelayed(ackedDelayed),
            parked.length === 0 ? undefined : this.store.park(parked),
          ]),
        {
          operation: 'acknowledge messages',
          initialBackoffMs: 50,
          maxBackoffMs: 1_000,
          shouldStop: () => this.host.isGone(),
          onRetry: (error) => this.host.reportError('acknowledge messages', error),
        },
      );
      if (results?.some((result) => result?.status === 'fenced')) this.host.lose('fenced');
    } catch (error) {
      // Not retriable (a Redis error reply): the messages stay pending for the next owner.
      this.host.reportError('acknowledge messages', error);
      this.host.lose('error');
    }
  }
}
