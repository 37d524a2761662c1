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
  INTERNAL: HttpStatus.INTERNAL_SERVER_ERROR,
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Express's body parser reports its failures as errors with a status and a type. */
interface BodyParserError extends Error {
  status: number;
  type: string;
}

/** Turns anything thrown while serving a request into a status and a clear JSON body. */
export function toErrorResponse(exception: unknown): ErrorBody {
  if (exception instanceof BrokerError) {
    return body(STATUS_BY_CODE[exception.code] ?? HttpStatus.INTERNAL_SERVER_ERROR, exception.code, exception.message);
  }
  if (exception instanceof HttpException) {
    // Nest wraps the body parser's failures; their own wording is terse.
    if (isBodyParserError(exception.cause)) return bodyParserResponse(exception.cause);
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    return body(status, codeOf(status), Array.isArray(message) ? message.join('; ') : String(message ?? exception.message));
  }
  if (isBodyParserError(exception)) return bodyParserResponse(exception);
  return body(HttpStatus.INTERNAL_SERVER_ERROR, 'INTERNAL', 'Internal error; the host logged the details.');
}

function bodyParserResponse(error: BodyParserError): ErrorBody {
  if (error.type === 'entity.too.large') {
    return body(413, 'PAYLOAD_TOO_LARGE', 'The request body is larger than this host accepts; send fewer messages per request, or raise BROOK_BODY_LIMIT_BYTES.');
  }
  if (error.type === 'entity.parse.failed') return body(400, 'BAD_REQUEST', `The request body is not valid JSON: ${error.message}`);
  return body(error.status, codeOf(error.status), error.message);
}

function body(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, error: STATUS_TEXT[statusCode] ?? 'Error', code, message };
}

function codeOf(status: number): string {
  return (STATUS_TEXT[status] ?? 'Error').toUpperCase().replaceAll(' ', '_');
}

function isBodyParserError(error: unknown): error is BodyParserError {
  if (!(error instanceof Error)) return false;
  const { status, type } = error as Partial<BodyParserError>;
  return typeof status === 'number' && status >= 400 && status < 500 && typeof type === 'string';
}
