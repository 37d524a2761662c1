/** Roles of admin tokens, each allowed everything the ones before it are. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;

/** A token's role. */
export type Role = (typeof ROLES)[number];

/** Whether a token of role `held` may call an endpoint that needs `needed`. */
export function grants(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** Whether `value` names a role. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
