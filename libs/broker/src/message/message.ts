/** Message headers: string keys to string values. */
export type Headers = Record<string, string>;

/** A message to produce; `Message<T>` types its value. */
export interface Message<V = unknown> {
  /** Decides the partition (Kafka's murmur2 of the key's bytes); `null` or absent for keyless messages. */
  key?: string | Buffer | null;
  /** The payload: strings and Buffers are stored as bytes, anything else goes through the codec (JSON by default). */
  value: V;
  /** String → string metadata travelling with the message. */
  headers?: Headers;
  /** Explicit partition; overrides the key. */
  partition?: number;
  /** Milliseconds since the epoch; when absent, the time Redis appended the message (its clock, not the producer's). */
  timestamp?: number;
  /** Ties the message to the work around it; sent as the `brook-correlation-id` header (1 to 200 characters). */
  correlationId?: string;
}

/** Acknowledgement level of a produce request. */
export type Acks = 'none' | 'leader' | 'all';

/** What `producer.send` takes. */
export interface ProducerRecord<V = unknown> {
  topic: string;
  messages: Array<Message<V>>;
}

/** Where a produced message landed. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  /** The message's offset; `-1` with `acks: 'none'`, where the producer does not wait to learn it. */
  offset: number;
  /** The message's timestamp in milliseconds since the epoch; `-1` with `acks: 'none'` when the append time stamped it. */
  timestamp: number;
}

/** A message as a consumer receives it. */
export interface ReceivedMessage<V = unknown> {
  offset: number;
  key: string | null;
  value: V;
  headers: Headers;
  timestamp: number;
}
