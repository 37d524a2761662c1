import { createHash } from 'node:crypto';

/**
 * Tags of the dead-letter index (see `redis/scripts/lib/dead-letter-index.lua`, which computes the
 * same): `reason:<reason>` and `error:<first 16 hex digits of the error name's SHA-1>`. Each tag has
 * a posting stream of the dead letters carrying it.
 */
export function reasonTag(reason: string): string {
  return `reason:${reason}`;
}

export function errorTag(errorName: string): string {
  return `error:${createHash('sha1').update(errorName, 'utf8').digest('hex').slice(0, 16)}`;
}

/** The value of `name` in a flat field/value list (the dead-letter diagnostics). */
export function diagnosticValue(diagnostics: ReadonlyArray<string | number>, name: string): string | undefined {
  for (let i = 0; i + 1 < diagnostics.length; i += 2) {
    if (diagnostics[i] === name) return String(diagnostics[i + 1]);
  }
  return undefined;
}
