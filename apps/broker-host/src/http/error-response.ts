import { HttpException, HttpStatus } from '@nestjs/common';
import { BrokerError, type BrokerErrorCode } from '@brook/broker';

/** The JSON body of every error the host answers with. */
export interface ErrorBody {
  statusCode: number;
  /** The HTTP status text, e.g. 'Bad Request'. */
  error: string;
  /** Machine-readable: a Brook error code, or the HTTP status as a code ('UNAUTHORIZED', …). */
  code: string;
  message: string;
}

/** HTTP status per Brook error code; every code is listed so a new one cannot be forgotten. */
export const STATUS_BY_CODE: Record<BrokerErrorCode, number> = {
  INVALID_ARGUMENT: HttpStatus.BAD_REQUEST,
  INVALID_NAME: HttpStatus.BAD_REQUEST,
  PARTITION_OUT_OF_RANGE: HttpStatus.BAD_REQUEST,
  UNKNOWN_TOPIC: HttpStatus.NOT_FOUND,
  UNKNOWN_GROUP: HttpStatus.NOT_FOUND,
  TOPIC_CONFLICT: HttpStatus.CONFLICT,
  GROUP_ACTIVE: HttpStatus.CONFLICT,
  MESSAGE_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  NOT_ENOUGH_REPLICAS: HttpStatus.SERVICE_UNAVAILABLE,
  CONNECTION: HttpStatus.SERVICE_UNAVAILABLE,
  UNSUPPORTED_REDIS: HttpStatus.SERVICE_UNAVAILABLE,
  CLOSED: HttpStatus.SERVICE_UNAVAILABLE,
  FENCED: HttpStatus.INTERNAL_SERVER_ERROR,
  NON_RETRIABLE: HttpStatus.INTERNAL_SERVER_ERROR,
  HANDLER_TIMEOUT: HttpStatus.INTERNAL_SERVER_ERROR,
  TIMEOUT: HttpStatus.GATEWAY_TIMEOUT,
  PRODUCER_FENCED: HttpStatus.CONFLICT,
  INVALID_TIMESTAMP: HttpStatus.BAD_REQUEST,
  QUEUE_FULL: HttpStatus.SERVICE_UNAVAILABLE,
  OUT_OF_ORDER_SEQUENCE: HttpStatus.INTERNAL_SERVER_ERROR,
  DATA_LOSS: HttpStatus.INTERNAL_SERVER_ERROR,
  OUT_OF_MEMORY: HttpStatus.SERVICE_UNAVAILABLE,
  GROUP_KIND_CONFLICT: HttpStatus.CONFLICT,
  LEADER_NOT_AVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  // The host's Redis user lacks an ACL permission: the deployment, not the request, is at fault,
  // like a Redis that is too old.
  NO_PERMISSION: HttpStatus.SERVICE_UNAVAILABLE,
  INTERNAL: HttpStatus.INTERNAL_SERVER_ERROR,
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Turns anything thrown while serving a request into a status and a clear JSON body. */
export function toErrorResponse(exception: unknown): ErrorBody {
  if (exception instanceof BrokerError) {
    return errorBody(STATUS_BY_CODE[exception.code] ?? HttpStatus.INTERNAL_SERVER_ERROR, exception.code, exception.message);
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    return errorBody(status, codeOf(status), Array.isArray(message) ? message.join('; ') : String(message ?? exception.message));
  }
  return errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'INTERNAL', 'Internal error; the host logged the details.');
}

/** The body of an error answer. */
export function errorBody(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, error: statusText(statusCode), code, message };
}

/** The reason phrase of a status: 413 gives 'Payload Too Large'. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/** The status as a code: 413 gives 'PAYLOAD_TOO_LARGE'. */
export function codeOf(status: number): string {
  return statusText(status).toUpperCase().replaceAll(' ', '_');
}
