import type { IncomingMessage } from 'node:http';
import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { toErrorResponse } from './error-response.js';

/** Answers every failure as JSON (see {@link toErrorResponse}); logs only what is the host's fault. */
@Catch()
export class ErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<IncomingMessage>();
    const { retryAfterSeconds, ...body } = toErrorResponse(exception);
    // Refused before its body was read (no token, over the rate limit, too large): close rather than
    // read the rest, however much the client still means to send.
    if (!request.complete && !response.headersSent) response.setHeader('Connection', 'close');
    if (body.statusCode >= 500) {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    if (body.statusCode === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="brook"');
    if (retryAfterSeconds !== undefined && !response.headersSent) response.setHeader('Retry-After', String(retryAfterSeconds));
    if (!response.headersSent) response.status(body.statusCode).json(body);
  }
}
