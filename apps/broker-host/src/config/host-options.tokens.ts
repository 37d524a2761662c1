import type { ResolvedHostOptions } from './host-options.js';

/** Injection token of the host's {@link ResolvedHostOptions}. */
export const HOST_OPTIONS = Symbol('brook:host-options');
