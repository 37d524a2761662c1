import { Logger } from '@nestjs/common';
import type { BrookLogger } from '@brook/broker';

/** Routes Brook's background events into the host's Nest log, so levels and format are one. */
export function nestLogger(context: string): BrookLogger {
  const logger = new Logger(context);
  const line = (message: string, details?: Record<string, unknown>) => (details && Object.keys(details).length > 0 ? `${message} ${JSON.stringify(details)}` : message);
  return {
    debug: (message, details) => logger.debug(line(message, details)),
    info: (message, details) => logger.log(line(message, details)),
    warn: (message, details) => logger.warn(line(message, details)),
    error: (message, details) => logger.error(line(message, details)),
  };
}
