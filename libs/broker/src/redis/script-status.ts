import { BrokerError } from '../errors/errors.js';

/**
 * The statuses Brook's scripts answer with, first in every reply of a state change. One
 * vocabulary, so "the caller lost the partition" reads `fenced` everywhere.
 */
export const SCRIPT_STATUSES = [
  /** Done. */
  'ok',
  /** The caller's fencing token no longer holds the lease (or a newer producer epoch wrote). */
  'fenced',
  /** The log, or the group's position on it, does not exist: the topic was deleted or reset by force. */
  'gone',
  /** Nothing to do: the message already left where the call expected it (a repeat), or its offset now holds another message. */
  'stale',
  /** Another member holds the lease. */
  'held',
  /** A produce batch that was appended before. */
  'duplicate',
  /** Fewer in-sync replicas than required; nothing was written. */
  'not-enough-replicas',
  /** A message timestamp outside the allowed window; nothing was written. */
  'invalid-timestamp',
  /** A produce batch overlapping what was appended but not a repeat; nothing was written. */
  'out-of-order',
  /** An acknowledgement could not be vouched for by its highest message; nothing changed (send every message id). */
  'unverified',
  /** The group exists as the other kind (exclusive or share). */
  'kind',
  /** Live members of the share group use another setting. */
  'conflict',
  /** A dead-letter removal lacked the posting key of a tag that appeared meanwhile; nothing changed (read the tags again). */
  'retag',
] as const;

export type ScriptStatus = (typeof SCRIPT_STATUSES)[number];

/** Reads the status a script put first in its reply. */
export function statusOf(reply: unknown): ScriptStatus {
  const first = Array.isArray(reply) ? reply[0] : undefined;
  const status = Buffer.isBuffer(first) ? first.toString('latin1') : String(first);
  if (!(SCRIPT_STATUSES as readonly string[]).includes(status)) {
    throw new BrokerError('INTERNAL', `A script answered with the unknown status ${JSON.stringify(status)}; the scripts loaded in Redis do not match this client.`);
  }
  return status as ScriptStatus;
}
