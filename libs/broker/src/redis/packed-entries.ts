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
    const fields = new Array<Buffer>(count);
    let messageId = '';
    for (let i = 0; i < count; i++) {
      const length = packed.readUInt32BE(at);
      if (length === 1 && i % 2 === 0) fields[i] = SINGLE_BYTE_NAMES[packed[at + 4]];
      else fields[i] = packed.subarray(at + 4, at + 4 + length);
      if (i % 2 === 1 && fields[i - 1][0] === MESSAGE_ID_FIELD && fields[i - 1].length === 1) messageId = packed.toString('latin1', at + 4, at + 4 + length);
      at += 4 + length;
    }
    const failure = failures?.[entries.length];
    entries.push({
      id,
      offset: seqOf(id) - 1,
      messageId,
      fields,
      bytes: at - start - 8 - 4 * count,
      failure: failure ? (JSON.parse(failure.toString('utf8')) as FailureRecord) : undefined,
    });
  }
  return entries;
}

/** The sequence part of a `0-<seq>` stream ID. */
export function seqOf(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1));
}
