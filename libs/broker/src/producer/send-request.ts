import type { RecordMetadata } from '../message/message.js';

/** One `send()` call waiting for the batches its messages joined. */
export class SendRequest {
  readonly results: RecordMetadata[];
  readonly promise: Promise<RecordMetadata[]>;
  private remaining: number;
  private settled = false;
  private resolvePromise!: (value: RecordMetadata[]) => void;
  private rejectPromise!: (error: unknown) => void;

  constructor(size: number) {
    this.results = new Array<RecordMetadata>(size);
    this.remaining = size;
    this.promise = new Promise((resolve, reject) => {
      this.resolvePromise = resolve;
      this.rejectPromise = reject;
    });
  }

  /** Records where message `index` landed; resolves once every message has landed. */
  landed(index: number, metadata: RecordMetadata): void {
    if (this.settled) return;
    this.results[index] = metadata;
    if (--this.remaining === 0) {
      this.settled = true;
      this.resolvePromise(this.results);
    }
  }

  /** Rejects the whole call; the first failure wins. */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectPromise(error);
  }
}
