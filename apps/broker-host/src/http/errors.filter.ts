import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { toErrorResponse } from './error-response.js';

/** Answers every failure as JSON (see {@link toErrorResponse}); logs only what is the host's fault. */
@Catch()
export class ErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = toErrorResponse(exception);
    if (body.statusCode >= 500) {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    if (body.statusCode === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="brook"');
    if (!response.headersSent) response.status(body.statusCode).json(body);
  }
}
