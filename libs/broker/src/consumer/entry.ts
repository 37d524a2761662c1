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
  /** Field/value pairs as stored; empty when retention removed the entry. */
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

/** The sequence part of a `0-<seq>` stream ID. */
export function seqOf(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1));
}
