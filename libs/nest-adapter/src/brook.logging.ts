import { InvalidArgumentError } from '@brook/broker';
import type { Logger } from '@nestjs/common';

/** A Nest log level, or `'off'` for no line at all. */
export type BrookLogLevel = 'verbose' | 'debug' | 'log' | 'warn' | 'error' | 'off';

/** What the module logs about handler failures (the `logging` option of `BrokerModule.forRoot`). */
export interface BrookLoggingOptions {
  /** Level of the one line per failed attempt that is retried (topic, partition, offset, attempt, error). @defaultValue `'warn'` */
  failedAttempt?: BrookLogLevel;
  /** Level of the one line per message moved to the dead-letter topic (reason, attempts, error). @defaultValue `'warn'` */
  deadLetter?: BrookLogLevel;
  /** Level of the failure's stack trace, logged after its line. @defaultValue `'debug'` */
  stack?: BrookLogLevel;
}

export type ResolvedBrookLogging = Readonly<Required<BrookLoggingOptions>>;

export const DEFAULT_BROOK_LOGGING = {
  failedAttempt: 'warn',
  deadLetter: 'warn',
  stack: 'debug',
} as const satisfies ResolvedBrookLogging;

const LEVELS: readonly BrookLogLevel[] = ['verbose', 'debug', 'log', 'warn', 'error', 'off'];

/** Validates the `logging` option, applies defaults and freezes the result. */
export function resolveBrookLogging(options: BrookLoggingOptions | undefined): ResolvedBrookLogging {
  if (options === undefined) return DEFAULT_BROOK_LOGGING;
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError("BrokerModule's logging option must be an object like { failedAttempt: 'warn', deadLetter: 'warn', stack: 'debug' }.");
  }
  const resolved = { ...DEFAULT_BROOK_LOGGING };
  for (const [name, level] of Object.entries(options)) {
    if (!(name in DEFAULT_BROOK_LOGGING)) {
      throw new InvalidArgumentError(`BrokerModule's logging option has no '${name}'; it knows failedAttempt, deadLetter and stack.`);
    }
    if (level === undefined) continue;
    if (!LEVELS.includes(level as BrookLogLevel)) {
      throw new InvalidArgumentError(`logging.${name} must be one of ${LEVELS.map((l) => `'${l}'`).join(', ')}; got ${JSON.stringify(level)}.`);
    }
    (resolved as Record<string, BrookLogLevel>)[name] = level as BrookLogLevel;
  }
  return Object.freeze(resolved);
}

/** Writes `message` to `logger` at `level` (nothing for `'off'`). */
export function logAt(logger: Logger, level: BrookLogLevel, message: string): void {
  if (level !== 'off') logger[level](message);
}

/** `Name: message` of a handler's failure, on one line. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error).split('\n')[0];
  return `${error.name}: ${error.message.split('\n')[0]}`;
}

/** Logs a failure's stack at the configured level, if it has one. */
export function logStack(logger: Logger, level: BrookLogLevel, error: unknown): void {
  if (level !== 'off' && error instanceof Error && error.stack !== undefined) logger[level](error.stack);
}
