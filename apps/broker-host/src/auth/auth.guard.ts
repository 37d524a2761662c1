import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ResolvedHostOptions } from '../config/host-options.js';
import { HOST_OPTIONS } from '../config/host-options.tokens.js';
import { TokenVerifier, type Principal } from './admin-tokens.js';
import { BEARER } from './bearer.js';
import { PRINCIPAL } from './principal.decorator.js';
import { PUBLIC_ENDPOINT, REQUIRED_ROLE, type PublicSwitch } from './require-role.decorator.js';
import { grants, type Role } from './roles.js';


/**
 * Deny by default: every endpoint needs a bearer token of at least the role it declares with
 * `@RequireRole`, `admin` when it declares none, unless it is marked `@Public()`.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly verifier: TokenVerifier;

  constructor(
    private readonly reflector: Reflector,
    @Inject(HOST_OPTIONS) private readonly options: ResolvedHostOptions,
  ) {
    this.verifier = new TokenVerifier(options.adminTokens);
  }

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    const open = this.reflector.getAllAndOverride<true | PublicSwitch | undefined>(PUBLIC_ENDPOINT, targets);
    if (open === true || (open !== undefined && this.options[open] === true)) return true;
    const needed = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets) ?? 'admin';

    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined>; [PRINCIPAL]?: Principal }>();
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.length === 0) {
      throw new UnauthorizedException("This endpoint needs a token: send 'Authorization: Bearer <token>' with a token from BROOK_ADMIN_TOKENS.");
    }
    const match = BEARER.exec(header);
    const principal = match === null ? undefined : this.verifier.verify(match[1]);
    if (principal === undefined) {
      throw new UnauthorizedException("The bearer token is not valid: send 'Authorization: Bearer <token>' with a token from BROOK_ADMIN_TOKENS.");
    }
    if (!grants(principal.role, needed)) {
      throw new ForbiddenException(`Token '${principal.name}' has role ${principal.role}; this endpoint needs ${needed} or above.`);
    }
    request[PRINCIPAL] = principal;
    return true;
  }
}
