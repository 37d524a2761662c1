import { RAW_ENCODINGS, type Codec } from '../codec/codec.js';
import { InvalidArgumentError } from '../errors/errors.js';
import { CORRELATION_ID_HEADER } from '../tracing/correlation.js';
import type { Headers, Message } from './message.js';

/**
 * Field names of a stream entry. Single letters keep entries small. The produce script writes the
 * message id ('i') and the timestamp ('t'); the client sends the rest.
 */
export const FIELD = { messageId: 'i', timestamp: 't', encoding: 'e', key: 'k', headers: 'h', value: 'v' } as const;

/** A message ready for the `produce` script. */
export interface EncodedMessage {
  /** Field/value strings for XADD, without 'i' and 't' (the script adds them). */
  fields: Array<string | Buffer>;
  /** Bytes of key, headers and value: what `maxMessageBytes` limits. */
  sizeBytes: number;
  /** The message's own timestamp, or null to stamp it with the append time on the Redis clock. */
  timestamp: number | null;
  /** The key's bytes for partitioning, or null for keyless messages. */
  keyBytes: Buffer | null;
}

function byteLength(data: string | Buffer): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

/**
 * Refuses text with a lone UTF-16 surrogate: it has no UTF-8 form, so storing it would silently
 * change it (to U+FFFD). Inside a JSON value, and in headers (stored as JSON), it is kept, escaped.
 */
function assertWellFormed(topic: string, what: string, text: string): void {
  // String.prototype.isWellFormed (Node ≥ 20) is not in the ES2023 typings yet.
  if ((text as string & { isWellFormed(): boolean }).isWellFormed()) return;
  throw new InvalidArgumentError(
    `The ${what} of a message for '${topic}' holds a lone UTF-16 surrogate, which UTF-8 cannot store; nothing was sent. Remove it, or send the text as a Buffer or inside a JSON value.`,
  );
}

/** Validates and encodes one message; throws `InvalidArgumentError` naming the problem. */
export function encodeMessage(topic: string, message: Message, codec: Codec): EncodedMessage {
  if (message === null || typeof message !== 'object') {
    throw new InvalidArgumentError(`Each message for '${topic}' must be an object like { key, value, headers }.`);
  }
  const { key, value, timestamp } = message;
  const headers = message.correlationId === undefined ? message.headers : withCorrelationId(topic, message);

  let keyData: string | Buffer | null = null;
  if (key !== undefined && key !== null) {
    if (typeof key !== 'string' && !Buffer.isBuffer(key)) {
      throw new InvalidArgumentError(`A message key for '${topic}' must be a string, Buffer or null; got ${typeof key}. Convert it with String(key).`);
    }
    if (typeof key === 'string') assertWellFormed(topic, 'key', key);
    keyData = key;
  }

  let ts: number | null = null;
  if (timestamp !== undefined && timestamp !== null) {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new InvalidArgumentError(`A message timestamp for '${topic}' must be a non-negative integer of milliseconds; got ${String(timestamp)}.`);
    }
    ts = timestamp;
  }

  let headerText: string | null = null;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers)) {
      throw new InvalidArgumentError(`Message headers for '${topic}' must be an object of string values.`);
    }
    const names = Object.keys(headers);
    for (const name of names) {
      if (typeof headers[name] !== 'string') {
        throw new InvalidArgumentError(`Header '${name}' of a message for '${topic}' must be a string; got ${typeof headers[name]}. Convert it with String().`);
      }
    }
    if (names.length > 0) headerText = JSON.stringify(headers);
  }

  let encoding: string;
  let valueData: string | Buffer;
  if (value === undefined) {
    throw new InvalidArgumentError(`A message for '${topic}' has no value; send null for an empty value.`);
  } else if (typeof value === 'string') {
    assertWellFormed(topic, 'value', value);
    encoding = RAW_ENCODINGS.string;
    valueData = value;
  } else if (Buffer.isBuffer(value)) {
    encoding = RAW_ENCODINGS.bytes;
    valueData = value;
  } else if (value instanceof Uint8Array) {
    encoding = RAW_ENCODINGS.bytes;
    valueData = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  } else {
    encoding = codec.name;
    valueData = codec.encode(value);
  }

  const fields: Array<string | Buffer> = [FIELD.encoding, encoding];
  let sizeBytes = byteLength(valueData);
  if (keyData !== null) {
    fields.push(FIELD.key, keyData);
    sizeBytes += byteLength(keyData);
  }
  if (headerText !== null) {
    fields.push(FIELD.headers, headerText);
    sizeBytes += byteLength(headerText);
  }
  fields.push(FIELD.value, valueData);
  return {
    fields,
    sizeBytes,
    timestamp: ts,
    keyBytes: keyData === null ? null : typeof keyData === 'string' ? Buffer.from(keyData) : keyData,
  };
}

/** The message's headers with its `correlationId` added (the header wins over one of the same name). */
function withCorrelationId(topic: string, message: Message): Headers | undefined {
  const { correlationId, headers } = message;
  if (typeof correlationId !== 'string' || correlationId.length === 0 || correlationId.length > 200) {
    throw new InvalidArgumentError(`The correlationId of a message for '${topic}' must be a string of 1 to 200 characters; got ${JSON.stringify(correlationId)}.`);
  }
  // Malformed headers are left for the checks below to refuse.
  if (headers !== undefined && headers !== null && (typeof headers !== 'object' || Array.isArray(headers))) return headers;
  return { ...headers, [CORRELATION_ID_HEADER]: correlationId };
}

/** A stream entry split into its parts, before the value is decoded. */
export interface RawEntry {
  timestamp: number;
  encoding: string;
  key: string | null;
  headers: Headers;
  value: Buffer;
}

/** Reads the fields of a stream entry (as Buffers). Unknown fields are ignored. */
export function readEntry(fields: Buffer[]): RawEntry {
  let timestamp = 0;
  let encoding = '';
  let key: string | null = null;
  let headers: Headers = {};
  let value: Buffer = EMPTY;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    if (name.length !== 1) continue;
    const data = fields[i + 1];
    switch (name[0]) {
      case 0x74 /* t */:
        timestamp = readDecimal(data);
        break;
      case 0x65 /* e */:
        encoding = data.toString('latin1');
        break;
      case 0x6b /* k */:
        key = data.toString('utf8');
        break;
      case 0x68 /* h */:
        headers = JSON.parse(data.toString('utf8')) as Headers;
        break;
      case 0x76 /* v */:
        value = data;
        break;
    }
  }
  return { timestamp, encoding, key, headers, value };
}

const EMPTY: Buffer = Buffer.alloc(0);

/** `Number(data.toString('latin1'))` without the string, for the common case of plain digits. */
function readDecimal(data: Buffer): number {
  const length = data.length;
  if (length === 0 || length > 15) return Number(data.toString('latin1'));
  let value = 0;
  for (let i = 0; i < length; i++) {
    const digit = data[i] - 0x30;
    if (digit < 0 || digit > 9) return Number(data.toString('latin1'));
    value = value * 10 + digit;
  }
  return value;
}

/** Decodes a value by its stored encoding; throws when the codec cannot read it. */
export function decodeValue(entry: RawEntry, codec: Codec): unknown {
  switch (entry.encoding) {
    case RAW_ENCODINGS.string:
      return entry.value.toString('utf8');
    case RAW_ENCODINGS.bytes:
      return entry.value;
    case codec.name:
      return codec.decode(entry.value);
    default:
      throw new InvalidArgumentError(
        `The value was written with codec '${entry.encoding}', but this consumer decodes '${codec.name}'; configure the matching codec.`,
      );
  }
}

/**
 * A stored message (a dead letter's original fields) ready to be sent again: its encoding, key,
 * headers and value unchanged, its original timestamp kept, and a new message id.
 */
export function storedMessage(fields: Buffer[]): EncodedMessage {
  const kept: Buffer[] = [];
  let timestamp: number | null = null;
  let keyBytes: Buffer | null = null;
  let sizeBytes = 0;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i].toString('latin1');
    if (name === FIELD.timestamp) timestamp = Number(fields[i + 1].toString('latin1'));
    if (name !== FIELD.encoding && name !== FIELD.key && name !== FIELD.headers && name !== FIELD.value) continue;
    kept.push(fields[i], fields[i + 1]);
    if (name !== FIELD.encoding) sizeBytes += fields[i + 1].length;
    if (name === FIELD.key) keyBytes = fields[i + 1];
  }
  return { fields: kept, sizeBytes, timestamp, keyBytes };
}
