import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import { findJsonTextProblem, MAX_JSON_DEPTH } from './json-text.js';

/** What a request body may be. */
export interface BodyLimits {
  /** Largest body, in bytes as sent. */
  maxBytes: number;
  /** Deepest nesting of objects and arrays. @defaultValue {@link MAX_JSON_DEPTH} */
  maxDepth?: number;
}

/** Whether a request announces a body: a non-zero Content-Length, or any Transfer-Encoding. */
export function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Reads and parses a JSON request body; undefined when the request has none. Checks what the
 * headers promise before reading a byte — encoding, media type, declared length — and stops reading
 * at `maxBytes`. The parsed value is what the text says, as `JSON.stringify` would write it back:
 * text that would not survive (duplicate keys, numbers a double cannot hold, invalid UTF-8) is
 * refused instead of changed.
 */
export async function readJsonBody(request: IncomingMessage, response: ServerResponse, limits: BodyLimits): Promise<unknown> {
  if (!hasBody(request)) return undefined;
  assertJsonMediaType(request);
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
  // The client holds the body back until told to go on (RFC 9110 §10.1.1); it has passed the checks.
  if (request.headers.expect?.toLowerCase() === '100-continue' && !response.headersSent) response.writeContinue();

  const bytes = await readBytes(request, limits.maxBytes);
  let text: string;
  try {
    // A leading byte order mark is dropped (RFC 8259 §8.1); anything not UTF-8 is refused, not replaced.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BadRequestException('The request body is not valid UTF-8; send JSON as UTF-8 text, and bytes in a message as valueBase64.');
  }
  const problem = findJsonTextProblem(text, limits.maxDepth ?? MAX_JSON_DEPTH);
  if (problem !== undefined) throw new BadRequestException(problem);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BadRequestException(`The request body is not valid JSON: ${(error as Error).message}.`);
  }
}

function assertJsonMediaType(request: IncomingMessage): void {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw new UnsupportedMediaTypeException(`Content-Encoding '${encoding.slice(0, 40)}' is not accepted; send the body uncompressed.`);
  }
  const [mediaType = '', ...parameters] = (request.headers['content-type'] ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replaceAll('"', '');
  if (mediaType !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new UnsupportedMediaTypeException(
      `Request bodies must be JSON in UTF-8; send 'Content-Type: application/json' (got ${JSON.stringify((request.headers['content-type'] ?? '').slice(0, 80))}).`,
    );
  }
}

/** The body's bytes, refusing it once past `maxBytes` (the rest is never read: the connection closes). */
function readBytes(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onEnded);
      request.off('close', onEnded);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        request.pause();
        reject(tooLarge(maxBytes));
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onEnded = () => {
      cleanup();
      reject(new BadRequestException('The request body ended before it was complete; send it whole.'));
    };
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onEnded);
    request.on('close', onEnded);
  });
}

function tooLarge(maxBytes: number): PayloadTooLargeException {
  return new PayloadTooLargeException(
    `The request body is larger than this host accepts (${maxBytes} bytes); send fewer messages per request, or raise BROOK_BODY_LIMIT_BYTES.`,
  );
}
