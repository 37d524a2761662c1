/** Where Brook reports what happens in the background (reconnects, rebalances, skipped entries). */
export interface BrookLogger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

/** Log levels, quietest last. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A logger writing to stderr from `level` up; the default logs warnings and errors only. */
export function createConsoleLogger(level: LogLevel = 'warn'): BrookLogger {
  const threshold = LOG_LEVELS.indexOf(level);
  const write = (at: LogLevel) => (message: string, context?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(at) < threshold) return;
    const suffix = context && Object.keys(context).length > 0 ? ' ' + JSON.stringify(context) : '';
    process.stderr.write(`[brook] ${at.toUpperCase()} ${message}${suffix}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
