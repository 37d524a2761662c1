import type { Producer } from '@brook/broker';

/** Injection token of the host's one {@link Producer}; the Brook client closes it with itself. */
export const PRODUCER = Symbol('brook:producer');
