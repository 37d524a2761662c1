import { BrokerError } from '@brook/broker';

/** Exit codes scripts can rely on; documented in `brook --help` and the README. */
export const EXIT = {
  OK: 0,
  /** Anything not listed below. */
  FAILED: 1,
  /** The command line or a value in it is wrong: unknown option, bad name, out-of-range number. */
  USAGE: 2,
  /** The topic, group, partition or dead letter does not exist. */
  NOT_FOUND: 3,
  /** Refused as it stands: a group with live members, a topic with another configuration. */
  CONFLICT: 4,
  /** No token, a token the host does not accept, a role that does not allow it, or a Redis user without the permission. */
  DENIED: 5,
  /** Redis or the host cannot be reached or answered "try later". */
  UNAVAILABLE: 6,
} as const;

/** A failure the command line reports in one line and turns into its exit code. */
export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

const EXIT_BY_CODE: Record<string, number> = {
  INVALID_ARGUMENT: EXIT.USAGE,
  INVALID_NAME: EXIT.USAGE,
  INVALID_TIMESTAMP: EXIT.USAGE,
  MESSAGE_TOO_LARGE: EXIT.USAGE,
  PARTITION_OUT_OF_RANGE: EXIT.USAGE,
  UNKNOWN_TOPIC: EXIT.NOT_FOUND,
  UNKNOWN_GROUP: EXIT.NOT_FOUND,
  TOPIC_CONFLICT: EXIT.CONFLICT,
  GROUP_ACTIVE: EXIT.CONFLICT,
  GROUP_KIND_CONFLICT: EXIT.CONFLICT,
  NO_PERMISSION: EXIT.DENIED,
  CONNECTION: EXIT.UNAVAILABLE,
  TIMEOUT: EXIT.UNAVAILABLE,
  NOT_ENOUGH_REPLICAS: EXIT.UNAVAILABLE,
  QUEUE_FULL: EXIT.UNAVAILABLE,
  OUT_OF_MEMORY: EXIT.UNAVAILABLE,
  DELIVERY_TIMEOUT: EXIT.UNAVAILABLE,
  LEADER_NOT_AVAILABLE: EXIT.UNAVAILABLE,
};

/** The exit code for a Brook error code (the library's and the host's are the same), or `fallback`. */
export function exitCodeFor(code: string, fallback: number = EXIT.FAILED): number {
  return EXIT_BY_CODE[code] ?? fallback;
}

/** The exit code and one-line message for anything a command threw. */
export function describeFailure(error: unknown): { exitCode: number; message: string } {
  if (error instanceof CommandError) return { exitCode: error.exitCode, message: `${error.code}: ${error.message}` };
  if (error instanceof BrokerError) return { exitCode: exitCodeFor(error.code), message: `${error.code}: ${error.message}` };
  return { exitCode: EXIT.FAILED, message: error instanceof Error ? error.message : String(error) };
}
