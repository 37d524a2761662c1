import { setTimeout as delay } from 'node:timers/promises';
import { backoffMs, retryRetriable } from '../client/io-retry.js';
import { withTimeout } from '../redis/request-timeout.js';
import {
  BrokerError,
  DataLossError,
  DeliveryTimeoutError,
  InvalidTimestampError,
  NotEnoughReplicasError,
  OutOfOrderSequenceError,
  ProducerFencedError,
  UnknownTopicError,
} from '../errors/errors.js';
import type { EncodedMessage } from '../message/wire.js';
import type { ProduceInput, ProduceReply } from '../redis/specs/produce.js';
import { remainingMs } from './delivery-deadline.js';
import type { ResolvedProducerOptions } from './producer.options.js';
import type { SendRequest } from './send-request.js';

/** A message waiting for its partition's next batch. */
export interface QueuedMessage {
  request: SendRequest;
  /** Its position in the request's results. */
  index: number;
  encoded: EncodedMessage;
  /** When its send gives up (`performance.now()` time): the send call plus `deliveryTimeoutMs`. */
  deadline: number;
}

/** Who a producer is: its id and, for a stable `producerId`, the epoch of this instance. */
export interface ProducerIdentity {
  producerId: string;
  epoch: number;
}

/** What a partition pipeline needs from its producer. */
export interface PipelineHost {
  readonly options: ResolvedProducerOptions;
  /** The connection's `commandTimeoutMs`: the longest one attempt waits for its reply. */
  readonly commandTimeoutMs: number;
  identity(): Promise<ProducerIdentity>;
  /** Runs the produce script; `timeoutMs` bounds the wait for the reply. */
  append(input: ProduceInput, timeoutMs: number): Promise<ProduceReply>;
  /** Resolves once the replicas of the primary `replicationId` confirmed what was appended (acks 'all'); absent otherwise. */
  confirmReplicas?: (replicationId: string) => Promise<void>;
  /** The topic no longer exists: forget its cached metadata. */
  forgetTopic(topic: string): void;
  /** A newer instance of this producer id took over. */
  fenced(error: ProducerFencedError): void;
  /** Something went wrong in the background: retries, lost writes. */
  report(operation: string, error: BrokerError): void;
}

/** Settings of the partition that shape its appends. */
export interface PartitionSettings {
  topic: string;
  partition: number;
  /** Approximate cap on the log length; 0 = none. */
  maxLen: number;
  /** The topic has age retention: keep the time index. */
  timeIndex: boolean;
}

/**
 * The messages of one partition on their way to Redis, in order: at most one batch is in flight
 * per partition, numbered with the producer's sequence, and retried until Redis answers; a batch
 * Redis already appended is answered with its original offsets (see produce.lua). One batch in
 * flight keeps order across retries without any reordering logic; messages arriving meanwhile
 * fill the next batch.
 */
export class PartitionPipeline {
  private pending: QueuedMessage[] = [];
  private pendingBytes = 0;
  private inFlightBytes = 0;
  private sending: Promise<void> | undefined;
  private nextSeq = 0;
  /** Highest sequence Redis confirmed to this producer, to tell lost writes from abandoned ones. */
  private confirmedSeq = -1;
  /** Highest offset this producer was given on the partition: a lower one later means Redis went back. */
  private highestOffset = -1;

  constructor(
    readonly settings: PartitionSettings,
    private readonly host: PipelineHost,
  ) {}

  /** Bytes queued or in flight. */
  get queuedBytes(): number {
    return this.pendingBytes + this.inFlightBytes;
  }

  get idle(): boolean {
    return this.sending === undefined && this.pending.length === 0;
  }

  add(message: QueuedMessage): void {
    this.pending.push(message);
    this.pendingBytes += message.encoded.sizeBytes;
  }

  /** Starts the next batch unless one is in flight; resolves when the pipeline ran dry. */
  pump(): Promise<void> {
    if (this.sending === undefined && this.pending.length > 0) {
      this.sending = this.sendNext().finally(() => {
        this.sending = undefined;
        if (this.pending.length > 0) void this.pump();
      });
    }
    return this.sending ?? Promise.resolve();
  }

  /** Fails everything queued (the producer was fenced or closed without sending). */
  failPending(error: BrokerError): void {
    for (const message of this.pending.splice(0)) message.request.fail(error);
    this.pendingBytes = 0;
  }

  private cut(): QueuedMessage[] {
    this.expire();
    const { maxBatchMessages, maxBatchBytes } = this.host.options;
    let bytes = 0;
    let count = 0;
    while (count < this.pending.length && count < maxBatchMessages) {
      const size = this.pending[count].encoded.sizeBytes;
      if (count > 0 && bytes + size > maxBatchBytes) break;
      bytes += size;
      count++;
    }
    const batch = this.pending.splice(0, count);
    this.pendingBytes -= bytes;
    this.inFlightBytes = bytes;
    return batch;
  }

  /**
   * Fails queued messages whose delivery deadline passed while an earlier batch was retried; none
   * of them was sent. Deadlines grow along the queue (one `deliveryTimeoutMs` per producer), so
   * looking at its head is enough.
   */
  private expire(): void {
    const now = performance.now();
    while (this.pending.length > 0 && this.pending[0].deadline <= now) {
      const message = this.pending.shift()!;
      this.pendingBytes -= message.encoded.sizeBytes;
      message.request.fail(new DeliveryTimeoutError(this.settings.topic, this.host.options.deliveryTimeoutMs, false));
    }
  }

  private async sendNext(): Promise<void> {
    const batch = this.cut();
    if (batch.length === 0) return;
    try {
      await this.send(batch);
    } finally {
      this.inFlightBytes = 0;
    }
  }

  private async send(batch: QueuedMessage[]): Promise<void> {
    const { topic, partition } = this.settings;
    const { options } = this.host;
    const operation = `send to partition ${partition} of '${topic}'`;
    // The batch gives up with its oldest message; every attempt's wait is cut to what is left, so
    // a send settles by its deadline whatever state the connection is in.
    const deadline = Math.min(...batch.map((message) => message.deadline));
    const baseSeq = this.nextSeq;
    this.nextSeq += batch.length;
    let identity: ProducerIdentity | undefined;
    let attempts = 0;
    let lastError: BrokerError | undefined;
    // Too few replicas in sync: nothing was written, and they may catch up (a replica resyncing):
    // retried like a lost connection until deliveryTimeoutMs, as Kafka's producer does.
    const append = async () => {
      identity ??= await withTimeout(this.host.identity(), remainingMs(deadline, this.host.commandTimeoutMs), `register producer for '${topic}'`);
      attempts++;
      const answer = await this.host.append(
        {
          topic,
          partition,
          ...identity,
          baseSeq,
          maxLen: this.settings.maxLen,
          timeIndex: this.settings.timeIndex,
          minInSync: options.acks === 'all' ? options.minInSyncReplicas : 0,
          aheadMs: options.timestampWindow.aheadMs ?? -1,
          behindMs: options.timestampWindow.behindMs ?? -1,
          messages: batch.map(({ encoded }) => ({ timestamp: encoded.timestamp, fields: encoded.fields })),
        },
        remainingMs(deadline, this.host.commandTimeoutMs),
      );
      if (answer.status === 'not-enough-replicas') throw new NotEnoughReplicasError(answer.inSync, options.minInSyncReplicas, options.ackTimeoutMs, false);
      return answer;
    };
    /** The first offset an earlier answer gave this batch: the same answer again is no news. */
    let answeredOffset: number | undefined;
    for (let resends = 0; ; resends++) {
      let reply: ProduceReply | undefined;
      lastError = undefined;
      try {
        reply = await retryRetriable(append, {
          operation,
          initialBackoffMs: 50,
          maxBackoffMs: 1_000,
          // At least one attempt, however late the batch got its turn.
          shouldStop: () => lastError !== undefined && performance.now() >= deadline,
          onRetry: (error) => {
            lastError = error;
            this.host.report(operation, error);
          },
        });
      } catch (error) {
        // Redis may or may not have appended it: its sequence numbers are spent, never reused.
        if (attempts === 0) this.nextSeq = baseSeq;
        return failAll(batch, asBrokerError(error));
      }
      if (reply === undefined) {
        // Given up at the deadline. When no attempt can have written anything (Redis was never
        // asked, or said nothing was written), the sequence numbers are free again.
        // Set by onRetry, which the compiler cannot see.
        const failure = lastError as BrokerError | undefined;
        const maybeWritten = answeredOffset !== undefined || (attempts > 0 && !(failure instanceof NotEnoughReplicasError && !failure.written));
        if (!maybeWritten) this.nextSeq = baseSeq;
        // A refusal Redis answered (too few replicas, out of memory) names the problem better than the timeout.
        if (failure !== undefined && !TRANSIENT.has(failure.code)) return failAll(batch, failure);
        return failAll(batch, new DeliveryTimeoutError(topic, options.deliveryTimeoutMs, maybeWritten, { cause: failure }));
      }
      const sender = identity!;

      switch (reply.status) {
        case 'ok':
        case 'duplicate': {
          if (reply.firstOffset !== answeredOffset) this.noteAppended(batch.length, baseSeq, reply.firstOffset, reply.status === 'ok' ? reply.gapFrom : -1);
          answeredOffset = reply.firstOffset;
          const unconfirmed = await this.confirm(reply.replicationId);
          if (unconfirmed === undefined) return this.deliver(batch, reply.firstOffset, reply.appendMs);
          // The primary that took the batch went away before its replicas confirmed it (a
          // failover). The batch goes again, with its sequence numbers, to whichever primary
          // serves the partition now: one that already holds it answers with the original
          // offsets, one that does not (it was never replicated) appends it, and either is waited on.
          if (primaryChanged(unconfirmed) && performance.now() < deadline) {
            this.host.report(operation, unconfirmed);
            await delay(backoffMs({ initialBackoffMs: 50, maxBackoffMs: 1_000 }, resends + 1));
            continue;
          }
          return failAll(batch, unconfirmed);
        }
        case 'fenced': {
          const error = new ProducerFencedError(sender.producerId, sender.epoch, reply.epoch);
          this.host.fenced(error);
          return failAll(batch, error);
        }
        case 'gone':
          this.nextSeq = baseSeq;
          this.host.forgetTopic(topic);
          return failAll(batch, new UnknownTopicError(topic, `partition ${partition} no longer exists; the topic was deleted, create it again first`));
        case 'out-of-order':
          return failAll(batch, new OutOfOrderSequenceError(topic, partition, `batch from sequence ${baseSeq}, last appended ${reply.lastSeq}`));
        case 'invalid-timestamp':
          return this.refuseTimestamp(batch, baseSeq, reply);
      }
    }
  }

  /** Fails the send that carried the bad timestamp and puts the other messages of the batch back in front. */
  private refuseTimestamp(batch: QueuedMessage[], baseSeq: number, reply: Extract<ProduceReply, { status: 'invalid-timestamp' }>): void {
    this.nextSeq = baseSeq;
    const { aheadMs, behindMs } = this.host.options.timestampWindow;
    const window = `${behindMs === null ? 'any age' : `at most ${behindMs} ms old`}, ${aheadMs === null ? 'any time ahead' : `at most ${aheadMs} ms ahead`}`;
    const offending = batch[reply.index].request;
    offending.fail(new InvalidTimestampError(this.settings.topic, reply.timestamp, reply.nowMs, window));
    const rest = batch.filter((message) => message.request !== offending);
    this.pending.unshift(...rest);
    this.pendingBytes += rest.reduce((sum, message) => sum + message.encoded.sizeBytes, 0);
  }

  /** Checks an append's answer against what this producer was told before, reporting writes Redis lost. */
  private noteAppended(count: number, baseSeq: number, firstOffset: number, gapFrom: number): void {
    const { topic, partition } = this.settings;
    if (gapFrom >= 0 && this.confirmedSeq >= gapFrom) {
      const lost = this.confirmedSeq - gapFrom + 1;
      this.host.report(
        `send to partition ${partition} of '${topic}'`,
        new DataLossError(
          `Redis lost ${lost} message(s) of partition ${partition} of '${topic}' it had acknowledged to this producer ` +
            `(sequence ${gapFrom} to ${this.confirmedSeq}): it restarted from an older snapshot or failed over to a replica ` +
            `that lacked them. Writes acknowledged with acks: 'all' survive a failover; see "Delivery guarantees".`,
        ),
      );
    }
    if (firstOffset <= this.highestOffset) {
      this.host.report(
        `send to partition ${partition} of '${topic}'`,
        new DataLossError(
          `The log of partition ${partition} of '${topic}' went back from offset ${this.highestOffset + 1} to ${firstOffset}: ` +
            `Redis lost writes (a restart from an older snapshot, or a failover to a lagging replica); offsets are handed out again.`,
        ),
      );
    }
    this.highestOffset = firstOffset + count - 1;
    this.confirmedSeq = Math.max(this.confirmedSeq, baseSeq + count - 1);
  }

  /** With acks 'all', waits for the replicas of the primary `replicationId`; resolves with why they did not confirm, if they did not. */
  private async confirm(replicationId: string): Promise<BrokerError | undefined> {
    if (this.host.confirmReplicas === undefined) return undefined;
    try {
      await this.host.confirmReplicas(replicationId);
      return undefined;
    } catch (error) {
      return asBrokerError(error);
    }
  }

  private deliver(batch: QueuedMessage[], firstOffset: number, appendMs: number): void {
    const { topic, partition } = this.settings;
    batch.forEach(({ request, index, encoded }, i) =>
      request.landed(index, { topic, partition, offset: firstOffset + i, timestamp: encoded.timestamp ?? appendMs }),
    );
  }
}

/** The connection to the primary that took a write failed, or it is no longer a primary: the write may live on elsewhere. */
function primaryChanged(error: BrokerError): boolean {
  return error.code === 'CONNECTION' || error.code === 'LEADER_NOT_AVAILABLE';
}

/** Failures that pass by themselves: at the deadline they become a DeliveryTimeoutError. */
const TRANSIENT = new Set<string>(['CONNECTION', 'TIMEOUT', 'LEADER_NOT_AVAILABLE']);

function failAll(batch: QueuedMessage[], error: BrokerError): void {
  for (const { request } of batch) request.fail(error);
}

function asBrokerError(error: unknown): BrokerError {
  return error instanceof BrokerError ? error : new BrokerError('INTERNAL', String(error), { cause: error });
}
