import { Logger } from '@nestjs/common';
import type { BrookLogger } from '@brook/broker';

/** Brook's background events through Nest's `Logger`, so they follow the application's log levels. */
export function nestLogger(context = 'Brook'): BrookLogger {
  const logger = new Logger(context);
  const format = (message: string, details?: Record<string, unknown>) =>
    details && Object.keys(details).length > 0 ? `${message} ${JSON.stringify(details)}` : message;
  return {
    debug: (message, details) => logger.debug(format(message, details)),
    info: (message, details) => logger.log(format(message, details)),
    warn: (message, details) => logger.warn(format(message, details)),
    error: (message, details) => logger.error(format(message, details)),
  };
}
