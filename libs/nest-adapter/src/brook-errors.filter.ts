import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { BrokerError } from '@brook/broker';
import { toBrookHttpError } from './brook-http-errors.js';

/** The part of an HTTP response (Express or Fastify) the filter writes to. */
interface HttpReply {
  status?(code: number): unknown;
  code?(code: number): unknown;
  header?(name: string, value: string): unknown;
  setHeader?(name: string, value: string): void;
  json?(body: unknown): void;
  send?(body: unknown): void;
  headersSent?: boolean;
  sent?: boolean;
}

/**
 * Answers Brook errors that escape an HTTP handler the way the broker host does, instead of
 * Nest's 500: `MessageTooLargeError` 413, an unreachable Redis or a full producer queue 503 with
 * `Retry-After`, an unknown topic 404, invalid input 400 (see `BROOK_HTTP_ERRORS`). The body is
 * `{ statusCode, error, code, message }`. Errors raised in `@Subscribe` handlers pass through
 * untouched, so retries and dead-lettering are unchanged.
 *
 * ```ts
 * app.useGlobalFilters(new BrookErrorsFilter());
 * ```
 */
@Catch(BrokerError)
export class BrookErrorsFilter implements ExceptionFilter<BrokerError> {
  catch(exception: BrokerError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const { status, retryAfterSeconds, body } = toBrookHttpError(exception);
    const reply = host.switchToHttp().getResponse<HttpReply>();
    if (reply.headersSent || reply.sent) return;
    if (retryAfterSeconds !== undefined) {
      if (reply.setHeader) reply.setHeader('Retry-After', String(retryAfterSeconds));
      else reply.header?.('Retry-After', String(retryAfterSeconds));
    }
    if (reply.status && reply.json) {
      reply.status(status);
      reply.json(body);
    } else if (reply.code && reply.send) {
      reply.code(status);
      reply.send(body);
    }
  }
}
