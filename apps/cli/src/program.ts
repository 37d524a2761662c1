import { Command, InvalidArgumentError as InvalidOptionError, Option } from 'commander';
import type { LogLevel, ResetTarget } from '@brook/broker';
import { consume } from './commands/consume.js';
import { deadLetterCommands } from './commands/dead-letters.js';
import { groupCommands } from './commands/groups.js';
import { produce } from './commands/produce.js';
import { topicCommands } from './commands/topics.js';
import { completionScript } from './completion.js';
import { CommandError, EXIT } from './exit-codes.js';
import { HostOperations } from './host-operations.js';
import type { Operations } from './operations.js';
import { createOutput, type Output } from './output.js';
import { RedisOperations } from './redis-operations.js';

/** What every command gets: where to send operations and how to print. */
export interface CommandContext {
  ops: Operations;
  out: Output;
  /** Set when operations go straight to Redis (consuming as a group needs it). */
  redis: RedisOperations | undefined;
  /** Aborted on Ctrl-C / SIGTERM: long-running commands stop cleanly. */
  signal: AbortSignal;
  stdin: NodeJS.ReadableStream;
}

export interface GlobalOptions {
  redis?: string;
  host?: string;
  prefix: string;
  json: boolean;
  logLevel: LogLevel;
}

/** Runs one command with the context built from the global options; closes connections after. */
export type Runner = (action: (context: CommandContext) => Promise<void>, command: Command) => Promise<void>;

const LOG_LEVEL_NAMES: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure not listed below
  2  wrong command line or value (unknown option, bad name, partition out of range)
  3  topic, group or dead letter not found
  4  refused as it stands (group has live members, topic exists with another configuration)
  5  not allowed (no or unknown token, role too low, Redis user without the permission)
  6  Redis or the host unreachable, or answered "try later"

Environment:
  REDIS_URL     Redis to talk to directly (like --redis)
  BROOK_PREFIX  key prefix of the deployment (like --prefix, default "brook")
  BROOK_HOST    broker host to talk to instead (like --host)
  BROOK_TOKEN   bearer token for the host`;

/** The `brook` program. `run` wires the context; tests pass their own streams. */
export function createProgram(run: Runner): Command {
  const program = new Command('brook')
    .description("Brook from the command line: topics, groups, produce, consume and dead letters, straight on Redis or through a broker host.")
    .addOption(new Option('--redis <url>', 'Redis URL (redis://, rediss://); comma-separate several for a Cluster').env('REDIS_URL'))
    .addOption(new Option('--host <url>', 'a broker host URL instead of Redis; the token comes from BROOK_TOKEN').env('BROOK_HOST'))
    .addOption(new Option('--prefix <prefix>', 'key prefix of the deployment').env('BROOK_PREFIX').default('brook'))
    .option('--json', 'print JSON for scripts (one object per line for streams)', false)
    .addOption(new Option('--log-level <level>', "the library's log lines on stderr (Redis mode)").choices(LOG_LEVEL_NAMES).default('silent'))
    .version('0.1.0')
    .showHelpAfterError('(brook --help for usage)')
    // Parse errors reach the caller as CommanderError (exit code 2), also from subcommands, which copy this setting.
    .exitOverride()
    .addHelpText('after', `\nExamples:\n  $ brook --redis redis://127.0.0.1:6379 topics list\n  $ BROOK_HOST=http://127.0.0.1:3000 BROOK_TOKEN=… brook groups describe payments\n${EXIT_CODES_HELP}`);

  topicCommands(program, run);
  groupCommands(program, run, parseResetTarget);
  program.addCommand(produce(run));
  program.addCommand(consume(run));
  deadLetterCommands(program, run);

  program
    .command('completion')
    .description('print a shell completion script')
    .argument('[shell]', 'bash or zsh', 'bash')
    .addHelpText('after', '\nExamples:\n  $ source <(brook completion bash)\n  $ brook completion zsh > "${fpath[1]}/_brook"')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new CommandError('INVALID_ARGUMENT', `Unknown shell ${JSON.stringify(shell)}: use bash or zsh.`, EXIT.USAGE);
      process.stdout.write(completionScript(program, shell));
    });
  return program;
}

/** The operations the global options point at. */
export function connect(options: GlobalOptions): { ops: Operations; redis: RedisOperations | undefined } {
  if (options.redis !== undefined && options.host !== undefined) {
    throw new CommandError('INVALID_ARGUMENT', 'Give either --redis (REDIS_URL) or --host (BROOK_HOST), not both.', EXIT.USAGE);
  }
  if (options.host !== undefined) {
    if (!/^https?:\/\//.test(options.host)) throw new CommandError('INVALID_ARGUMENT', `--host must be an http(s) URL, e.g. http://127.0.0.1:3000; got ${JSON.stringify(options.host)}.`, EXIT.USAGE);
    return { ops: new HostOperations(options.host, process.env.BROOK_TOKEN || undefined), redis: undefined };
  }
  if (options.redis === undefined || options.redis === '') {
    throw new CommandError('INVALID_ARGUMENT', 'Where is Brook? Give --redis redis://host:6379 (or set REDIS_URL), or --host http://broker-host:3000 with BROOK_TOKEN.', EXIT.USAGE);
  }
  const urls = options.redis.split(',').map((url) => url.trim()).filter((url) => url !== '');
  for (const url of urls) {
    if (!/^rediss?:\/\//.test(url)) throw new CommandError('INVALID_ARGUMENT', `--redis must be a redis:// or rediss:// URL; got ${JSON.stringify(url)}.`, EXIT.USAGE);
  }
  const connection = urls.length === 1 ? urls[0] : { cluster: urls.map(clusterNode) };
  const redis = new RedisOperations(connection, options.prefix, urls.join(','), options.logLevel);
  return { ops: redis, redis };
}

function clusterNode(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}

/** `--to-earliest`, `--to-latest`, `--to-offset N` or `--to-datetime ISO` as a reset target. */
function parseResetTarget(options: { toEarliest?: boolean; toLatest?: boolean; toOffset?: number; toDatetime?: number }): ResetTarget {
  const given = [options.toEarliest, options.toLatest, options.toOffset, options.toDatetime].filter((value) => value !== undefined && value !== false);
  if (given.length !== 1) {
    throw new CommandError('INVALID_ARGUMENT', 'Give exactly one of --to-earliest, --to-latest, --to-offset <n> and --to-datetime <iso>.', EXIT.USAGE);
  }
  if (options.toEarliest) return 'earliest';
  if (options.toLatest) return 'latest';
  if (options.toOffset !== undefined) return { offset: options.toOffset };
  return { timestamp: options.toDatetime! };
}

/** Option parsers that answer a wrong value with what to give instead. */
export const parse = {
  count(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
    return (text: string): number => {
      const value = Number(text);
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
        throw new InvalidOptionError(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(text)}.`);
      }
      return value;
    };
  },
  time(text: string): number {
    const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isFinite(value)) throw new InvalidOptionError(`expected an ISO date-time (2026-12-01T08:00:00Z) or epoch milliseconds; got ${JSON.stringify(text)}.`);
    return value;
  },
  collect(value: string, previous: string[] = []): string[] {
    return [...previous, value];
  },
};
