import type { Brook } from '@brook/broker';

/** Injection token of the host's {@link Brook} client. */
export const BROOK = Symbol('brook:client');
