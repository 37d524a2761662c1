import type { Headers } from '@brook/broker';

/** How a message value is written in JSON responses. */
export type ValueFormat = 'text' | 'json' | 'base64';

/** A stored message as JSON responses show it. */
export interface MessageView {
  key: string | null;
  /** Text, the decoded JSON, or base64 of the raw bytes — `valueFormat` says which. */
  value: unknown;
  valueFormat: ValueFormat;
  /** How the value was stored: 's' string, 'b' bytes, or the codec name ('json'). */
  encoding: string;
  headers: Headers;
  timestamp: number;
}

/**
 * JSON cannot carry bytes: values the library hands back as Buffers (bytes, other codecs, JSON
 * that does not parse) become base64, flagged so a client never mistakes them for text.
 */
export function toMessageView<T extends { key: string | null; value: unknown; encoding: string; headers: Headers; timestamp: number }>(
  message: T,
): Omit<T, 'value'> & MessageView {
  if (Buffer.isBuffer(message.value)) return { ...message, value: message.value.toString('base64'), valueFormat: 'base64' };
  return { ...message, valueFormat: message.encoding === 's' ? 'text' : 'json' };
}
