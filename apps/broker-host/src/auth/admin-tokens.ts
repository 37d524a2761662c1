import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from '@brook/broker';
import { isRole, ROLES, type Role } from './roles.js';

/** One configured bearer token. */
export interface AdminToken {
  /** Names the token in the audit log and in error messages; never the secret itself. */
  name: string;
  role: Role;
  token: string;
}

/** Who made a request, once its token was verified. */
export interface Principal {
  name: string;
  role: Role;
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
/** Short secrets can be guessed; 16 characters of base64 are 96 bits. */
const MIN_TOKEN_LENGTH = 16;
const TOKEN = /^[\x21-\x7e]+$/;

/**
 * Parses `BROOK_ADMIN_TOKENS`: comma-separated `name:role:token` entries. Fails naming the entry
 * and the fix, never echoing a secret.
 */
export function parseAdminTokens(text: string): AdminToken[] {
  const tokens = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry, index) => {
      const [name = '', role = '', ...secret] = entry.split(':');
      const token = secret.join(':');
      const where = `BROOK_ADMIN_TOKENS entry ${index + 1}${NAME.test(name) ? ` ('${name}')` : ''}`;
      if (!NAME.test(name)) throw new InvalidArgumentError(`${where}: the name must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', '@', '-'; write entries as name:role:token.`);
      if (!isRole(role)) throw new InvalidArgumentError(`${where}: the role must be one of ${ROLES.join(', ')}; write entries as name:role:token.`);
      if (token.length < MIN_TOKEN_LENGTH || !TOKEN.test(token)) {
        throw new InvalidArgumentError(`${where}: the token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces or commas, e.g. from 'openssl rand -base64 32'.`);
      }
      return { name, role, token };
    });
  assertUnique(tokens);
  return tokens;
}

/** Checks names and secrets are not reused, so the audit log's actor is unambiguous. */
export function assertUnique(tokens: readonly AdminToken[]): void {
  const names = new Set<string>();
  const secrets = new Set<string>();
  for (const { name, token } of tokens) {
    if (names.has(name)) throw new InvalidArgumentError(`Admin token name '${name}' is used twice; give every token its own name.`);
    if (secrets.has(token)) throw new InvalidArgumentError(`Admin tokens '${name}' and another one share the same secret; generate one secret per token.`);
    names.add(name);
    secrets.add(token);
  }
}

/** A fresh admin token for a host started without any configured. */
export function generateAdminToken(): AdminToken {
  return { name: 'generated-admin', role: 'admin', token: randomBytes(32).toString('base64url') };
}

/**
 * Finds the token a request presented. Every configured token is compared, in constant time per
 * comparison and without stopping at a match, so response times say nothing about the secrets.
 */
export class TokenVerifier {
  private readonly digests: Array<{ digest: Buffer; principal: Principal }>;

  constructor(tokens: readonly AdminToken[]) {
    // Equal-length digests let timingSafeEqual compare secrets of any length.
    this.digests = tokens.map(({ name, role, token }) => ({ digest: sha256(token), principal: { name, role } }));
  }

  verify(presented: string): Principal | undefined {
    const digest = sha256(presented);
    let found: Principal | undefined;
    for (const candidate of this.digests) {
      if (timingSafeEqual(candidate.digest, digest)) found = candidate.principal;
    }
    return found;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
