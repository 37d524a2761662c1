import type { AdminToken } from './admin-tokens.js';
import { TokenVerifier } from './admin-tokens.js';
import { BEARER } from './bearer.js';

/** The parts of a request the rate limit looks at. */
interface LimitedRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The client address, as Express derives it under `trust proxy`. */
  ip?: string;
}

/**
 * Who a request counts against: the token's name once the token is verified, so operators behind
 * one proxy or NAT each get their own budget, and the client address otherwise, so guessing tokens
 * is limited per address. Runs before authentication (a refused client is still counted), hence
 * its own check of the token.
 */
export function rateLimitTracker(tokens: readonly AdminToken[]): (request: Record<string, unknown>) => string {
  const verifier = new TokenVerifier(tokens);
  return (raw) => {
    const request = raw as unknown as LimitedRequest;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    const principal = match === null ? undefined : verifier.verify(match[1]);
    return principal === undefined ? `address:${request.ip ?? 'unknown'}` : `actor:${principal.name}`;
  };
}
