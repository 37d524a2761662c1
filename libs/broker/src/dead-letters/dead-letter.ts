import { InvalidArgumentError } from '../errors/errors.js';
import type { Headers } from '../message/message.js';
import { displayValue } from '../message/display-value.js';
import { readEntry } from '../message/wire.js';
import type { DeadLetterReason } from './dead-letter-record.js';

/** A message a group could not process, with the diagnosis of why. */
export interface DeadLetter {
  /** `<partition>-<dead-letter stream ID>`: how the admin API addresses it. */
  id: string;
  topic: string;
  group: string;
  partition: number;
  /** Offset of the original message in its partition. */
  offset: number;
  /** The handler that failed it. */
  handler: string;
  /** Handler attempts made (0 when it never ran: undecodable payloads). */
  attempts: number;
  reason: DeadLetterReason;
  error: { name: string; message: string; stack: string | null };
  firstFailureAt: number;
  lastFailureAt: number;
  /** How often the message had been replayed to the group before it failed this time. */
  replays: number;
  /** Replayed `maxReplays` times already: left out of replays unless forced (the replay cap). */
  parked: boolean;
  deadLetteredAt: number;
  /** The original message, unchanged. */
  message: {
    key: string | null;
    /** Decoded when it was a string or JSON; the raw bytes otherwise. */
    value: unknown;
    /** How the value was stored: 's' string, 'b' bytes, or the codec name ('json'). */
    encoding: string;
    headers: Headers;
    timestamp: number;
  };
}

/** Replays after which a message that fails again is parked. */
export const DEFAULT_MAX_REPLAYS = 3;

const ID_PATTERN = /^(\d{1,5})-(\d{1,15}-\d{1,15})$/;

/** Splits a dead-letter ID into its partition and stream ID; throws on anything else. */
export function parseDeadLetterId(id: unknown): { partition: number; streamId: string } {
  const match = typeof id === 'string' ? ID_PATTERN.exec(id) : null;
  if (match === null) {
    throw new InvalidArgumentError(`Invalid dead-letter id ${JSON.stringify(id)}: expected '<partition>-<ms>-<seq>' as returned by list(), e.g. '3-1764000000000-0'.`);
  }
  return { partition: Number(match[1]), streamId: match[2] };
}

/** Reads a dead-letter stream entry (fields as Buffers), as `deadLetterFields` (in `dead-letter-record.ts`) and the dead-letter script wrote it. */
export function parseDeadLetter(topic: string, group: string, partition: number, streamId: string, fields: Buffer[], maxReplays = DEFAULT_MAX_REPLAYS): DeadLetter {
  const diag = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i].toString('utf8');
    if (name.length > 1) diag.set(name, fields[i + 1].toString('utf8'));
  }
  const raw = readEntry(fields);
  const replays = Number(diag.get('replays') ?? 0);
  return {
    id: `${partition}-${streamId}`,
    topic,
    group,
    partition,
    offset: Number(diag.get('offset') ?? -1),
    handler: diag.get('handler') ?? '',
    attempts: Number(diag.get('attempts') ?? 0),
    reason: (diag.get('reason') ?? 'handler-error') as DeadLetterReason,
    error: { name: diag.get('errorName') ?? 'Error', message: diag.get('errorMessage') ?? '', stack: diag.get('errorStack') || null },
    firstFailureAt: Number(diag.get('firstFailureAt') ?? 0),
    lastFailureAt: Number(diag.get('lastFailureAt') ?? 0),
    replays,
    parked: maxReplays > 0 && replays >= maxReplays,
    deadLetteredAt: Number(streamId.split('-')[0]),
    message: { key: raw.key, value: displayValue(raw.encoding, raw.value), encoding: raw.encoding, headers: raw.headers, timestamp: raw.timestamp },
  };
}
