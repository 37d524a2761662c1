import type { Headers, Message } from '@brook/broker';

/**
 * The record form `BrookClient.emit()` and `send()` take to set more than the value, as the Kafka
 * client takes `{ key, value, headers }`: data that is an object with an own `key` or `value` is
 * this form; any other data is the message value.
 */
export interface BrookRecord<V = unknown> {
  /** Decides the partition, so messages with one key stay in order. */
  key?: string | Buffer | null;
  value: V;
  headers?: Headers;
  /** Explicit partition; overrides the key. */
  partition?: number;
}

/** What a `@MessagePattern` handler's reply carries (Nest's `WritePacket`). */
export interface ReplyPacket {
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

/** The message to produce for `emit`/`send` data: the record form's fields, or the data as the value. */
export function toMessage(data: unknown): Message {
  if (!isRecordForm(data)) return { value: data };
  const { key, value, headers, partition } = data;
  return { key: key ?? null, value, headers: headers === undefined ? undefined : { ...headers }, partition };
}

function isRecordForm(data: unknown): data is BrookRecord {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || Buffer.isBuffer(data)) return false;
  return Object.hasOwn(data, 'value') || Object.hasOwn(data, 'key');
}

/**
 * An error for the caller of `send()`: what an RPC exception filter produced (an object such as
 * `{ status: 'error', message }`) as it is; an `Error` as `{ name, message, code }` — its stack and
 * causes stay on the server.
 */
export function toReplyError(error: unknown): unknown {
  if (!(error instanceof Error)) return error ?? { status: 'error', message: 'The handler failed without an error.' };
  const code = (error as { code?: unknown }).code;
  return { status: 'error', name: error.name, message: error.message, ...(code === undefined ? {} : { code }) };
}
