/**
 * Reads a Redis server's slow log and names the Brook scripts in it, to show how long each kind of
 * script held Redis up in a scenario.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadScriptSource, SCRIPT_NAMES, type ScriptName } from '../../../libs/broker/src/redis/scripts.js';

/** One slow-log entry. */
export interface SlowCommand {
  /** How long Redis executed it, in microseconds (time blocked waiting excluded). */
  micros: number;
  /** Unix time it ran, in seconds. */
  at: number;
  /** The Brook script, for EVAL/EVALSHA of one of them. */
  script: ScriptName | undefined;
  /** The command and its first arguments, as the slow log keeps them (long ones cut). */
  args: string[];
  clientName: string;
}

const BY_SHA = new Map(SCRIPT_NAMES.map((name) => [createHash('sha1').update(loadScriptSource(name)).digest('hex'), name] as const));

/**
 * Logs every command that runs longer than `thresholdMicros` from now on, keeping up to `maxLen`
 * of them; the log is emptied first.
 */
export async function startSlowlog(redis: Redis, { thresholdMicros, maxLen }: { thresholdMicros: number; maxLen: number }): Promise<void> {
  await redis.config('SET', 'slowlog-log-slower-than', String(thresholdMicros));
  await redis.config('SET', 'slowlog-max-len', String(maxLen));
  await redis.call('SLOWLOG', 'RESET');
}

/** Every entry of the slow log, slowest first. Throws when the log overflowed and lost entries. */
export async function readSlowlog(redis: Redis, maxLen: number): Promise<SlowCommand[]> {
  const length = Number(await redis.call('SLOWLOG', 'LEN'));
  if (length >= maxLen) throw new Error(`the slow log is full (${length} entries): raise maxLen or the threshold, or entries are lost`);
  const entries = (await redis.call('SLOWLOG', 'GET', String(Math.max(length, 1)))) as unknown[][];
  return entries
    .map(([, at, micros, args, , clientName]) => {
      const strings = (args as unknown[]).map(String);
      return { micros: Number(micros), at: Number(at), script: scriptOf(strings), args: strings, clientName: String(clientName ?? '') };
    })
    .sort((a, b) => b.micros - a.micros);
}

/** The longest run of each script kind found in `commands`. */
export function longestPerScript(commands: readonly SlowCommand[]): Map<ScriptName, SlowCommand> {
  const longest = new Map<ScriptName, SlowCommand>();
  for (const command of commands) {
    if (command.script === undefined) continue;
    const known = longest.get(command.script);
    if (known === undefined || command.micros > known.micros) longest.set(command.script, command);
  }
  return longest;
}

/** One line: duration, who sent it, what it was (script name instead of its SHA or source) and its first key. */
export function describeSlowCommand(command: SlowCommand): string {
  const [name = '', , numKeys, ...rest] = command.args;
  const what = command.script === undefined ? command.args.slice(0, 4).map((arg) => arg.slice(0, 60)).join(' ') : `${name.toUpperCase()} ${command.script} (${numKeys} keys) ${rest[0] ?? ''}`;
  return `${(command.micros / 1_000).toFixed(1)} ms  ${command.clientName || '-'}  ${what}`;
}

function scriptOf(args: string[]): ScriptName | undefined {
  const command = args[0]?.toUpperCase();
  if (command === 'EVALSHA') return BY_SHA.get(args[1]);
  if (command === 'EVAL') {
    // The source is cut to its first 128 bytes, which hold the header naming the script.
    const header = /^(?:#![^\n]*\n)?--\[\[\s*\n\s*([a-z-]+) —/.exec(args[1] ?? '');
    return SCRIPT_NAMES.find((name) => name === header?.[1]);
  }
  return undefined;
}
