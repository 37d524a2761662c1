import { RAW_ENCODINGS, jsonCodec } from '../codec/codec.js';

/**
 * A stored value as admin reads show it: strings as text, JSON decoded, and anything else — bytes,
 * values of other codecs, JSON that does not parse — as the raw bytes, so nothing is hidden or lost.
 */
export function displayValue(encoding: string, bytes: Buffer): unknown {
  if (encoding === RAW_ENCODINGS.string) return bytes.toString('utf8');
  if (encoding === jsonCodec.name) {
    try {
      return jsonCodec.decode(bytes);
    } catch {
      // An undecodable payload is shown as the bytes it is.
    }
  }
  return bytes;
}
