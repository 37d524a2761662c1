import { InvalidNameError } from '../errors/errors.js';

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;

/** What a name is used for, to word the error. */
export type NameKind = 'topic' | 'group';

/**
 * Refuses anything that is not a valid topic or group name: 1 to 200 of `A-Z a-z 0-9 . _ -`,
 * not `.` or `..`, and not starting with `__` (reserved for Brook's own keys).
 */
export function assertValidName(kind: NameKind, name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new InvalidNameError(`The ${kind} name must be a string, got ${describe(name)}.`);
  }
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidNameError(
      `Invalid ${kind} name ${JSON.stringify(name.length > 220 ? name.slice(0, 220) + '…' : name)}: use 1 to 200 ` +
        `characters from A-Z, a-z, 0-9, '.', '_' and '-'.`,
    );
  }
  if (name === '.' || name === '..') {
    throw new InvalidNameError(`Invalid ${kind} name '${name}': '.' and '..' are not allowed; pick a descriptive name.`);
  }
  if (name.startsWith('__')) {
    throw new InvalidNameError(
      `Invalid ${kind} name '${name}': names starting with '__' are reserved for Brook; drop the leading underscores.`,
    );
  }
}

/** Short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
