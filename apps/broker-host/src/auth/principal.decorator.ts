import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from './admin-tokens.js';

/** Where the auth guard leaves the verified principal on the request. */
export const PRINCIPAL = Symbol('brook:principal');

/** The token that authorised the request, e.g. to name it as the actor in the audit log. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const request = context.switchToHttp().getRequest<{ [PRINCIPAL]?: Principal }>();
  const principal = request[PRINCIPAL];
  // The guard runs first on every endpoint that takes a principal; reaching here without one is a wiring bug.
  if (principal === undefined) throw new Error('No verified token on this request; is the endpoint public?');
  return principal;
});
