import { randomUUID } from 'node:crypto';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { Brook, ClosedError, InvalidArgumentError, type BrookOptions, type PeekedMessage, type Producer, type RecordMetadata } from '@brook/broker';
import { nestLogger } from '../nest-logger.js';
import { BrookHeaders } from './brook-transport.constants.js';
import { resolveBrookClientOptions, type BrookClientOptions, type DEFAULT_BROOK_CLIENT_OPTIONS } from './brook-client.options.js';
import { toMessage, type ReplyPacket } from './transport-message.js';
import { ReplyTimeoutError } from './transport.errors.js';

/** This client's reply topic and how far it was read. */
interface Replies {
  topic: string;
  nextOffset: number;
}

/**
 * A `ClientProxy` over Brook. `emit(topic, data)` produces a message; `send(topic, data)` produces
 * a request with a correlation id and this client's reply topic in its headers and emits what the
 * `@MessagePattern` handler replies, or fails with its error, or with `ReplyTimeoutError` after
 * `requestTimeoutMs`. `data` is the message value, or `{ key, value, headers }` to set the key
 * (and with it the partition) and headers, as with the Kafka client.
 *
 * The reply topic is created on the first `send()`, is this instance's alone (one partition) and is
 * deleted by `close()`. It is read without a consumer group, from its start, and only while
 * requests wait for replies: this instance is its only reader, so a group would only add state
 * that outlives the topic.
 *
 * ```ts
 * const client = new BrookClient({ redis: process.env.REDIS_URL, clientId: 'checkout' });
 * await lastValueFrom(client.emit('orders.created', { key: order.id, value: order }));
 * const total = await lastValueFrom(client.send<number>('prices.quote', { items }));
 * ```
 */
export class BrookClient extends ClientProxy {
  private readonly options: Readonly<BrookClientOptions & typeof DEFAULT_BROOK_CLIENT_OPTIONS>;
  private connection: Promise<{ brook: Brook; producer: Producer }> | undefined;
  private replies: Promise<Replies> | undefined;
  private brook: Brook | undefined;
  private readonly pending = new Map<string, { callback: (packet: WritePacket) => void; timer: NodeJS.Timeout }>();
  private closed = false;
  private polling = false;
  private readonly logger = new Logger('BrookClient');

  constructor(options: BrookClientOptions) {
    super();
    this.options = resolveBrookClientOptions(options);
  }

  /** Opens the client and its producer; `emit` and `send` call it, so calling it yourself only fails earlier. */
  connect(): Promise<{ brook: Brook; producer: Producer }> {
    if (this.closed) return Promise.reject(new ClosedError('BrookClient'));
    this.connection ??= (async () => {
      const { brook: shared, redis, logger, producer, requestTimeoutMs: _timeout, replyPollIntervalMs: _interval, ...client } = this.options;
      const brook = shared ?? new Brook({ ...client, redis: redis as BrookOptions['redis'], logger: logger ?? nestLogger() });
      this.brook = brook;
      return { brook, producer: brook.producer(producer) };
    })();
    return this.connection;
  }

  /**
   * Fails requests still waiting for a reply, deletes the reply topic,
   * flushes the producer and closes the connection (not a `brook` passed in).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [id, { callback }] of this.pending) {
      this.settle(id);
      callback({ err: new ClosedError('BrookClient'), isDisposed: true });
    }
    const connection = await this.connection?.catch(() => undefined);
    const replies = await this.replies?.catch(() => undefined);
    if (connection === undefined) return;
    if (replies !== undefined) await connection.brook.admin().deleteTopic(replies.topic);
    await connection.producer.close();
    if (this.options.brook === undefined) await connection.brook.close();
  }

  /** The Brook client (after `connect()`). */
  unwrap<T>(): T {
    if (this.brook === undefined) throw new InvalidArgumentError('BrookClient.unwrap(): the client is not connected; call connect() first.');
    return this.brook as T;
  }

  /** The reply topic of this instance, once a `send()` created it. */
  async replyTopic(): Promise<string | undefined> {
    return (await this.replies)?.topic;
  }

  protected async dispatchEvent<T = RecordMetadata[]>(packet: ReadPacket): Promise<T> {
    const { producer } = await this.connect();
    return (await producer.send({ topic: topicOf(packet.pattern), messages: [toMessage(packet.data)] })) as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const id = randomUUID();
    const topic = topicOf(packet.pattern);
    const timeoutMs = this.options.requestTimeoutMs;
    const timer = setTimeout(() => {
      this.settle(id);
      callback({ err: new ReplyTimeoutError(topic, timeoutMs), isDisposed: true });
    }, timeoutMs);
    this.pending.set(id, { callback, timer });
    void (async () => {
      const [{ producer }, replies] = await Promise.all([this.connect(), this.openReplies()]);
      const message = toMessage(packet.data);
      const headers = { ...message.headers, [BrookHeaders.CORRELATION_ID]: id, [BrookHeaders.REPLY_TOPIC]: replies.topic };
      await producer.send({ topic, messages: [{ ...message, headers }] });
      this.pollReplies(replies);
    })().catch((error: unknown) => {
      if (!this.pending.has(id)) return;
      this.settle(id);
      callback({ err: error, isDisposed: true });
    });
    return () => this.settle(id);
  }

  /** Creates this instance's reply topic, once. */
  private openReplies(): Promise<Replies> {
    this.replies ??= (async () => {
      const { brook } = await this.connect();
      const topic = `${this.options.clientId ?? 'brook'}.replies.${randomUUID()}`;
      await brook.admin().createTopic({ topic, partitions: 1 });
      return { topic, nextOffset: 0 };
    })();
    return this.replies;
  }

  /**
   * Reads the reply topic while requests wait: at once after a request went out, then every
   * `replyPollIntervalMs` while nothing new arrived. A failed read is logged and tried again;
   * the requests' timeouts bound the wait.
   */
  private pollReplies(replies: Replies): void {
    if (this.polling) return;
    this.polling = true;
    void (async () => {
      const admin = (await this.connect()).brook.admin();
      while (this.pending.size > 0 && !this.closed) {
        let arrived = 0;
        try {
          const { messages, nextOffset } = await admin.readMessages({ topic: replies.topic, partition: 0, offset: replies.nextOffset, limit: 1_000 });
          replies.nextOffset = nextOffset;
          arrived = messages.length;
          for (const message of messages) this.receive(message);
        } catch (error) {
          this.logger.warn(`BrookClient could not read its reply topic '${replies.topic}': ${(error as Error).message}`);
        }
        if (arrived === 0) await sleep(this.options.replyPollIntervalMs);
      }
      this.polling = false;
    })();
  }

  private receive(message: PeekedMessage): void {
    const id = message.headers[BrookHeaders.CORRELATION_ID];
    const entry = id === undefined ? undefined : this.pending.get(id);
    // A reply nobody waits for any more (timed out, unsubscribed) is dropped.
    if (id === undefined || entry === undefined) return;
    const packet = message.value as ReplyPacket;
    if (packet.err !== undefined || packet.isDisposed) this.settle(id);
    entry.callback(packet);
  }

  private settle(id: string): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.pending.delete(id);
  }
}

function topicOf(pattern: unknown): string {
  if (typeof pattern !== 'string') {
    throw new InvalidArgumentError(`BrookClient patterns are topic names (strings); got ${JSON.stringify(pattern)}.`);
  }
  return pattern;
}
