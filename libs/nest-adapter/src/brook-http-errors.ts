import { STATUS_CODES } from 'node:http';
import { BrokerError, type BrokerErrorCode } from '@brook/broker';

/** How an HTTP API answers one kind of Brook error. */
export interface BrookHttpMapping {
  status: number;
  /** `Retry-After` seconds, for refusals that pass by themselves (Redis unreachable, a full queue). */
  retryAfterSeconds?: number;
}

/**
 * HTTP answer per Brook error code — the one table the broker host and {@link BrookErrorsFilter}
 * share. Every code is listed, so a new one cannot be forgotten.
 */
export const BROOK_HTTP_ERRORS: Readonly<Record<BrokerErrorCode, BrookHttpMapping>> = Object.freeze({
  INVALID_ARGUMENT: { status: 400 },
  INVALID_NAME: { status: 400 },
  PARTITION_OUT_OF_RANGE: { status: 400 },
  INVALID_TIMESTAMP: { status: 400 },
  UNKNOWN_TOPIC: { status: 404 },
  UNKNOWN_GROUP: { status: 404 },
  TOPIC_CONFLICT: { status: 409 },
  GROUP_ACTIVE: { status: 409 },
  GROUP_KIND_CONFLICT: { status: 409 },
  PRODUCER_FENCED: { status: 409 },
  MESSAGE_TOO_LARGE: { status: 413 },
  CONNECTION: { status: 503, retryAfterSeconds: 5 },
  DELIVERY_TIMEOUT: { status: 503, retryAfterSeconds: 5 },
  NOT_ENOUGH_REPLICAS: { status: 503, retryAfterSeconds: 5 },
  QUEUE_FULL: { status: 503, retryAfterSeconds: 1 },
  OUT_OF_MEMORY: { status: 503, retryAfterSeconds: 30 },
  // A Cluster slot changing hands settles within a node timeout and an election.
  LEADER_NOT_AVAILABLE: { status: 503, retryAfterSeconds: 5 },
  // The Redis user lacks an ACL permission: the deployment, not the request, is at fault (like a Redis that is too old).
  NO_PERMISSION: { status: 503 },
  CLOSED: { status: 503, retryAfterSeconds: 5 },
  UNSUPPORTED_REDIS: { status: 503 },
  TIMEOUT: { status: 504 },
  FENCED: { status: 500 },
  NON_RETRIABLE: { status: 500 },
  HANDLER_TIMEOUT: { status: 500 },
  OUT_OF_ORDER_SEQUENCE: { status: 500 },
  DATA_LOSS: { status: 500 },
  INTERNAL: { status: 500 },
} satisfies Record<BrokerErrorCode, BrookHttpMapping>);

/** The JSON body of an error answer, as the broker host and {@link BrookErrorsFilter} send it. */
export interface BrookErrorBody {
  statusCode: number;
  /** The HTTP reason phrase, e.g. 'Payload Too Large'. */
  error: string;
  /** Machine-readable: the Brook error code ('MESSAGE_TOO_LARGE', …). */
  code: string;
  message: string;
}

/** The HTTP answer to a Brook error: status, `Retry-After` when it passes by itself, and the JSON body. */
export function toBrookHttpError(error: BrokerError): BrookHttpMapping & { body: BrookErrorBody } {
  const mapping = BROOK_HTTP_ERRORS[error.code] ?? { status: 500 };
  return { ...mapping, body: { statusCode: mapping.status, error: STATUS_CODES[mapping.status] ?? 'Error', code: error.code, message: error.message } };
}
