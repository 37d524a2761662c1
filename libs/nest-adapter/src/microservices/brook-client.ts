import { randomUUID } from 'node:crypto';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { Brook, ClosedError, InvalidArgumentError, type BrookOptions, type Consumer, type Producer, type ReceivedMessage, type RecordMetadata } from '@brook/broker';
import { nestLogger } from '../nest-logger.js';
import { BrookHeaders } from './brook-transport.constants.js';
import { resolveBrookClientOptions, type BrookClientOptions, type DEFAULT_BROOK_CLIENT_OPTIONS } from './brook-client.options.js';
import { toMessage, type ReplyPacket } from './transport-message.js';
import { ReplyTimeoutError } from './transport.errors.js';

/** This client's reply topic and the consumer reading it. */
interface Replies {
  topic: string;
  consumer: Consumer;
}

/**
 * A `ClientProxy` over Brook. `emit(topic, data)` produces a message; `send(topic, data)` produces
 * a request with a correlation id and this client's reply topic in its headers and emits what the
 * `@MessagePattern` handler replies, or fails with its error, or with `ReplyTimeoutError` after
 * `requestTimeoutMs`. `data` is the message value, or `{ key, value, headers }` to set the key
 * (and with it the partition) and headers, as with the Kafka client.
 *
 * The reply topic is created on the first `send()`, is this instance's alone (one partition, read
 * by a consumer group of the same name) and is deleted by `close()`.
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

  constructor(options: BrookClientOptions) {
    super();
    this.options = resolveBrookClientOptions(options);
  }

  /** Opens the client and its producer; `emit` and `send` call it, so calling it yourself only fails earlier. */
  connect(): Promise<{ brook: Brook; producer: Producer }> {
    if (this.closed) return Promise.reject(new ClosedError('BrookClient'));
    this.connection ??= (async () => {
      const { brook: shared, redis, logger, producer, consumer: _consumer, requestTimeoutMs: _timeout, ...client } = this.options;
      const brook = shared ?? new Brook({ ...client, redis: redis as BrookOptions['redis'], logger: logger ?? nestLogger() });
      this.brook = brook;
      return { brook, producer: brook.producer(producer) };
    })();
    return this.connection;
  }

  /**
   * Fails requests still waiting for a reply, stops the reply consumer, deletes the reply topic,
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
    if (replies !== undefined) {
      await replies.consumer.stop();
      await connection.brook.admin().deleteTopic(replies.topic);
    }
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
    })().catch((error: unknown) => {
      if (!this.pending.has(id)) return;
      this.settle(id);
      callback({ err: error, isDisposed: true });
    });
    return () => this.settle(id);
  }

  /** Creates this instance's reply topic and starts reading it, once. */
  private openReplies(): Promise<Replies> {
    this.replies ??= (async () => {
      const { brook } = await this.connect();
      const topic = `${this.options.clientId ?? 'brook'}.replies.${randomUUID()}`;
      await brook.admin().createTopic({ topic, partitions: 1 });
      const consumer = brook.consumer({ ...this.options.consumer, group: topic });
      await consumer.subscribe({ topic, fromBeginning: true, deadLetter: { enabled: false } });
      await consumer.run({ eachMessage: async ({ message }) => this.receive(message) });
      return { topic, consumer };
    })();
    return this.replies;
  }

  private receive(message: ReceivedMessage): void {
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
