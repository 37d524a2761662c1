import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { from, switchMap, type Observable } from 'rxjs';
import type { ResolvedHostOptions } from '../config/host-options.js';
import { HOST_OPTIONS } from '../config/host-options.tokens.js';
import { readJsonBody } from './request-body.js';

/**
 * Reads request bodies only once the guards have let the request in: a client without a valid
 * token, or over the rate limit, is answered before a byte of its body is read or parsed.
 * (Interceptors run after guards and before pipes, which take `request.body` from here.)
 */
@Injectable()
export class RequestBodyInterceptor implements NestInterceptor {
  constructor(@Inject(HOST_OPTIONS) private readonly options: ResolvedHostOptions) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<IncomingMessage & { body?: unknown }>();
    return from(readJsonBody(request, http.getResponse<ServerResponse>(), { maxBytes: this.options.bodyLimitBytes })).pipe(
      switchMap((body) => {
        request.body = body;
        return next.handle();
      }),
    );
  }
}
