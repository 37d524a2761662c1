import { InvalidArgumentError } from '../errors/errors.js';

/**
 * Turns message values into bytes and back. The codec's `name` is stored with every message, so a
 * consumer can tell a value it cannot decode from one it can.
 */
export interface Codec {
  /** Stored with each message; 1 to 32 of `A-Z a-z 0-9 . _ -`, not `s` or `b` (strings and bytes). */
  readonly name: string;
  /** Encodes a value; throw to refuse it. */
  encode(value: unknown): Buffer | string;
  /** Decodes what `encode` produced; throw when the bytes are not valid. */
  decode(data: Buffer): unknown;
}

/** The default codec: JSON text. */
export const jsonCodec: Codec = Object.freeze({
  name: 'json',
  encode(value: unknown): string {
    const text = JSON.stringify(value);
    if (text === undefined) {
      throw new InvalidArgumentError(`A message value of type ${typeof value} cannot be encoded as JSON; send an object, array, number, boolean, null, string or Buffer.`);
    }
    return text;
  },
  decode(data: Buffer): unknown {
    return JSON.parse(data.toString('utf8'));
  },
});

/** Encoding tags of values that bypass the codec. */
export const RAW_ENCODINGS = { string: 's', bytes: 'b' } as const;

const CODEC_NAME = /^[A-Za-z0-9._-]{1,32}$/;

/** Checks a user-supplied codec before it is used. */
export function assertValidCodec(codec: unknown): asserts codec is Codec {
  const candidate = codec as Partial<Codec> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.encode !== 'function' ||
    typeof candidate.decode !== 'function' ||
    typeof candidate.name !== 'string'
  ) {
    throw new InvalidArgumentError('codec must be an object with a name and encode(value) and decode(buffer) functions.');
  }
  if (!CODEC_NAME.test(candidate.name) || candidate.name === RAW_ENCODINGS.string || candidate.name === RAW_ENCODINGS.bytes) {
    throw new InvalidArgumentError(
      `Invalid codec name ${JSON.stringify(candidate.name)}: use 1 to 32 of A-Z, a-z, 0-9, '.', '_', '-', other than 's' and 'b'.`,
    );
  }
}
