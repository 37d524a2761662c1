/** Injection token of the module's `Producer`. */
export const BROOK_PRODUCER = Symbol('brook:producer');

/** Metadata key of `@Subscribe` on a method. */
export const SUBSCRIBE_METADATA = 'brook:subscribe';

/** Metadata key of `@Producer` on a method. */
export const PRODUCER_METADATA = 'brook:producer';

/** Where the module attaches the producer to instances with `@Producer` methods. */
export const PRODUCER_HANDLE = Symbol('brook:producer-handle');

/** The execution context type of subscription handlers (`context.getType()`). */
export const BROOK_CONTEXT_TYPE = 'brook';
