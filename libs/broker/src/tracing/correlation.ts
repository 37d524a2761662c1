import type { Headers } from '../message/message.js';

/** The header a producer sets from a message's `correlationId`. */
export const CORRELATION_ID_HEADER = 'brook-correlation-id';

/** W3C trace context: `version-traceid-spanid-flags`, the trace id being 32 hex digits. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}/;

/**
 * The id that ties a message to the work around it: the `brook-correlation-id` header when the
 * producer set one (`correlationId` of a message), otherwise the trace id of its `traceparent`
 * header, otherwise `undefined`.
 */
export function correlationIdOf(headers: Headers): string | undefined {
  const explicit = headers[CORRELATION_ID_HEADER];
  if (explicit !== undefined) return explicit;
  const traceparent = headers.traceparent;
  if (traceparent === undefined) return undefined;
  const traceId = TRACEPARENT.exec(traceparent)?.[1];
  return traceId === undefined || /^0+$/.test(traceId) ? undefined : traceId;
}
