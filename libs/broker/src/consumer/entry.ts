/** Why a message failed before, as recorded in the partition's attempts hash. */
export interface FailureRecord {
  attempts: number;
  firstFailureAt: number;
  lastFailureAt: number;
  error?: { name: string; message: string; stack?: string };
}

/** A message read from a partition log, not yet decoded. */
export interface FetchedEntry {
  /** Stream ID `0-<offset + 1>`. */
  id: string;
  offset: number;
  /** Field/value pairs as stored, read-only (views that may be shared); empty when retention removed the entry. */
  fields: Buffer[];
  /** Earlier failed attempts, when the message was taken over from a previous owner. */
  failure?: FailureRecord;
}

/** Parses what XREADGROUP / XAUTOCLAIM return (with Buffer replies) into entries. */
export function toEntries(raw: Array<[Buffer, Buffer[] | null]>, failures?: Array<Buffer | null | false>): FetchedEntry[] {
  return raw.map(([idBuffer, fields], i) => {
    const id = idBuffer.toString('latin1');
    const failure = failures?.[i];
    return {
      id,
      offset: seqOf(id) - 1,
      fields: fields ?? [],
      failure: failure ? (JSON.parse(failure.toString('utf8')) as FailureRecord) : undefined,
    };
  });
}

const BYTES = Buffer.from(Array.from({ length: 256 }, (_, byte) => byte));
/**
 * One shared Buffer per single-byte field name. Brook's field names are single letters, and a view
 * of each in every entry would be a third of what unpacking allocates.
 */
const SINGLE_BYTE_NAMES = Array.from({ length: 256 }, (_, byte) => BYTES.subarray(byte, byte + 1));

/** Parses the entries the fetch script packs into one string (see its header for the layout). */
export function unpackEntries(packed: Buffer): FetchedEntry[] {
  const entries: FetchedEntry[] = [];
  let at = 0;
  while (at < packed.length) {
    const idEnd = at + 4 + packed.readUInt32BE(at);
    const id = packed.toString('latin1', at + 4, idEnd);
    const count = packed.readUInt32BE(idEnd);
    at = idEnd + 4;
    const fields = new Array<Buffer>(count);
    for (let i = 0; i < count; i++) {
      const length = packed.readUInt32BE(at);
      fields[i] = length === 1 && i % 2 === 0 ? SINGLE_BYTE_NAMES[packed[at + 4]] : packed.subarray(at + 4, at + 4 + length);
      at += 4 + length;
    }
    entries.push({ id, offset: seqOf(id) - 1, fields, failure: undefined });
  }
  return entries;
}

/** The sequence part of a `0-<seq>` stream ID. */
export function seqOf(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1));
}
