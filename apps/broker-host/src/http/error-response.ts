import { HttpException, HttpStatus } from '@nestjs/common';
import { BrokerError } from '@brook/broker';
import { toBrookHttpError } from '@brook/nest-adapter';

/** The JSON body of every error the host answers with. */
export interface ErrorBody {
  statusCode: number;
  /** The HTTP status text, e.g. 'Bad Request'. */
  error: string;
  /** Machine-readable: a Brook error code, or the HTTP status as a code ('UNAUTHORIZED', …). */
  code: string;
  message: string;
  /** `Retry-After` seconds for refusals that pass by themselves; sent as a header, not in the body. */
  retryAfterSeconds?: number;
}

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

/**
 * Turns anything thrown while serving a request into a status and a clear JSON body. Brook errors
 * follow the adapter's table (`BROOK_HTTP_ERRORS`), the one applications use through `BrookErrorsFilter`.
 */
export function toErrorResponse(exception: unknown): ErrorBody {
  if (exception instanceof BrokerError) {
    const { retryAfterSeconds, body } = toBrookHttpError(exception);
    return { ...errorBody(body.statusCode, body.code, body.message), ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
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
