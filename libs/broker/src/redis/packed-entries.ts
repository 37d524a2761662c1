import type { Headers } from '../message/message.js';
import { readEntry, type RawEntry } from '../message/wire.js';

/** Why a message failed before, as the scripts record it in the partition's attempts hash. */
export interface FailureRecord {
  /** Failed attempts so far. */
  attempts: number;
  /** Milliseconds on the Redis clock. */
  firstFailureAt: number;
  lastFailureAt?: number;
  error?: { name: string; message: string; stack?: string };
  /** The message id the record belongs to (see the `message` Lua helpers). */
  m?: string;
}

/** A log entry as the scripts return it, not yet decoded. */
export interface LogEntry {
  /** Stream ID `0-<offset + 1>`. */
  id: string;
  offset: number;
  /** The producer-assigned id (field 'i'): unique across Redis rollbacks; '' for entries without one. */
  messageId: string;
  /** Field/value pairs as stored, read-only (views that may be shared); empty when retention removed the entry. */
  fields: Buffer[];
  /** Bytes of the ID, fields and values: what fetch budgets count. */
  bytes: number;
  /** Earlier failed attempts, when the message was taken over from an earlier owner or comes back from the delay queue. */
  failure?: FailureRecord;
}

const BYTES = Buffer.from(Array.from({ length: 256 }, (_, byte) => byte));
/**
 * One shared Buffer per single-byte field name. Brook's field names are single letters, and a view
 * of each in every entry would be a third of what unpacking allocates.
 */
const SINGLE_BYTE_NAMES = Array.from({ length: 256 }, (_, byte) => BYTES.subarray(byte, byte + 1));
const MESSAGE_ID_FIELD = 0x69; // 'i'
const KEY_FIELD = 0x6b; // 'k'

/**
 * An entry unpacked from a script's reply: its fields stay in the reply's buffer until asked for
 * (`fields`), and the parts a handler needs are read straight from it (`read()`), so unpacking a
 * message makes one Buffer view (its value) instead of one per field.
 */
class PackedEntry implements LogEntry {
  private fieldViews: Buffer[] | undefined;

  constructor(
    readonly id: string,
    readonly offset: number,
    readonly messageId: string,
    readonly bytes: number,
    readonly failure: FailureRecord | undefined,
    private readonly packed: Buffer,
    /** Where the first field's length starts. */
    private readonly fieldsAt: number,
    private readonly count: number,
  ) {}

  get fields(): Buffer[] {
    if (this.fieldViews === undefined) {
      const { packed, count } = this;
      const fields = new Array<Buffer>(count);
      let at = this.fieldsAt;
      for (let i = 0; i < count; i++) {
        const length = packed.readUInt32BE(at);
        fields[i] = length === 1 && i % 2 === 0 ? SINGLE_BYTE_NAMES[packed[at + 4]] : packed.subarray(at + 4, at + 4 + length);
        at += 4 + length;
      }
      this.fieldViews = fields;
    }
    return this.fieldViews;
  }

  /** The message key's bytes as a latin1 string (an exact identity for any key), or null for keyless messages. */
  keyIdentity(): string | null {
    const { packed, count } = this;
    let at = this.fieldsAt;
    for (let i = 0; i + 1 < count; i += 2) {
      const nameLength = packed.readUInt32BE(at);
      const isKey = nameLength === 1 && packed[at + 4] === KEY_FIELD;
      at += 4 + nameLength;
      const length = packed.readUInt32BE(at);
      if (isKey) return packed.toString('latin1', at + 4, at + 4 + length);
      at += 4 + length;
    }
    return null;
  }

  /** The message's parts, as `readEntry(fields)` gives them. */
  read(): RawEntry {
    const { packed, count } = this;
    let timestamp = 0;
    let encoding = '';
    let key: string | null = null;
    let headers: Headers = {};
    let value: Buffer = EMPTY;
    let at = this.fieldsAt;
    for (let i = 0; i + 1 < count; i += 2) {
      const nameLength = packed.readUInt32BE(at);
      const name = packed[at + 4];
      at += 4 + nameLength;
      const length = packed.readUInt32BE(at);
      const from = at + 4;
      const to = from + length;
      at = to;
      if (nameLength !== 1) continue;
      switch (name) {
        case 0x74 /* t */:
          timestamp = readDecimal(packed, from, to);
          break;
        case 0x65 /* e */:
          encoding = length === 4 && packed[from] === 0x6a && packed[from + 1] === 0x73 && packed[from + 2] === 0x6f && packed[from + 3] === 0x6e ? 'json' : packed.toString('latin1', from, to);
          break;
        case 0x6b /* k */:
          key = packed.toString('utf8', from, to);
          break;
        case 0x68 /* h */:
          headers = JSON.parse(packed.toString('utf8', from, to)) as Headers;
          break;
        case 0x76 /* v */:
          value = packed.subarray(from, to);
          break;
      }
    }
    return { timestamp, encoding, key, headers, value };
  }
}

/** An entry's key as an exact identity (its bytes as latin1), or null when it has none. */
export function keyIdentityOf(entry: LogEntry): string | null {
  if (entry instanceof PackedEntry) return entry.keyIdentity();
  const { fields } = entry;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i].length === 1 && fields[i][0] === KEY_FIELD) return fields[i + 1].toString('latin1');
  }
  return null;
}

/** The parts of an entry: read from its packed form when it has one, else from its fields. */
export function readLogEntry(entry: LogEntry): RawEntry {
  return entry instanceof PackedEntry ? entry.read() : readEntry(entry.fields);
}

const EMPTY: Buffer = Buffer.alloc(0);

/** `Number(text)` of a range of plain digits, without the string. */
function readDecimal(data: Buffer, from: number, to: number): number {
  if (to - from === 0 || to - from > 15) return Number(data.toString('latin1', from, to));
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = data[i] - 0x30;
    if (digit < 0 || digit > 9) return Number(data.toString('latin1', from, to));
    value = value * 10 + digit;
  }
  return value;
}

/** Parses the entries a script packed into one string (layout in `scripts/lib/entries.lua`). */
export function unpackEntries(packed: Buffer, failures?: ReadonlyArray<Buffer | null | false>): LogEntry[] {
  const entries: LogEntry[] = [];
  let at = 0;
  while (at < packed.length) {
    const start = at;
    const idEnd = at + 4 + packed.readUInt32BE(at);
    const id = packed.toString('latin1', at + 4, idEnd);
    const count = packed.readUInt32BE(idEnd);
    at = idEnd + 4;
    const fieldsAt = at;
    let messageId = '';
    for (let i = 0; i + 1 < count; i += 2) {
      const nameLength = packed.readUInt32BE(at);
      const isMessageId = nameLength === 1 && packed[at + 4] === MESSAGE_ID_FIELD;
      at += 4 + nameLength;
      const length = packed.readUInt32BE(at);
      if (isMessageId) messageId = packed.toString('latin1', at + 4, at + 4 + length);
      at += 4 + length;
    }
    if (count % 2 === 1) at += 4 + packed.readUInt32BE(at);
    const failure = failures?.[entries.length];
    entries.push(
      new PackedEntry(id, seqOf(id) - 1, messageId, at - start - 8 - 4 * count, failure ? (JSON.parse(failure.toString('utf8')) as FailureRecord) : undefined, packed, fieldsAt, count),
    );
  }
  return entries;
}

/** The sequence part of a `0-<seq>` stream ID. */
export function seqOf(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1));
}
