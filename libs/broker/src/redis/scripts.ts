import { readFileSync } from 'node:fs';
import type { ChainableCommander, Cluster, Redis } from 'ioredis';

/** Every Lua script Brook runs; each lives in `scripts/<name>.lua` with its header contract. */
export const SCRIPT_NAMES = [
  'produce',
  'create-partition',
  'register-topic',
  'grow-topic',
  'partition-offsets',
  'trim-by-age',
  'membership',
  'register-group',
  'acquire-lease',
  'renew-leases',
  'release-lease',
  'fetch',
  'claim',
  'ack',
  'record-failure',
  'group-offsets',
  'reset-offset',
  'schedule-retry',
  'take-due',
  'ack-delayed',
  'dead-letter',
  'replay-dead-letters',
  'acquire-controller',
  'release-controller',
] as const;

export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** A script argument as Redis receives it. */
export type ScriptArg = string | number | Buffer;

/** A connection (standalone or cluster) with Brook's scripts defined on it. */
export type RedisClient = Redis | Cluster;

const SOURCES: Record<ScriptName, string> = Object.fromEntries(
  SCRIPT_NAMES.map((name) => [name, readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8')]),
) as Record<ScriptName, string>;

/** The ioredis command a script is defined as. */
export function commandName(name: ScriptName): string {
  return 'brook_' + name.replaceAll('-', '_');
}

/**
 * Registers every script on a connection. ioredis runs them with EVALSHA and falls back to EVAL on
 * NOSCRIPT (after a restart or failover), so callers never load scripts themselves.
 */
export function defineScripts(client: RedisClient): void {
  for (const name of SCRIPT_NAMES) {
    client.defineCommand(commandName(name), { lua: SOURCES[name] });
  }
}

type ScriptInvoker = (numKeys: number, ...args: ScriptArg[]) => unknown;

function invoker(target: RedisClient | ChainableCommander, name: ScriptName, buffers: boolean): ScriptInvoker {
  const method = (target as unknown as Record<string, ScriptInvoker | undefined>)[
    commandName(name) + (buffers ? 'Buffer' : '')
  ];
  if (method === undefined) throw new Error(`Script ${name} is not defined on this connection`);
  return method.bind(target);
}

/** Runs a script and resolves with its reply. Every key goes through KEYS. */
export function runScript<T>(client: RedisClient, name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<T> {
  return invoker(client, name, false)(keys.length, ...keys, ...args) as Promise<T>;
}

/** Like {@link runScript}, with bulk strings in the reply kept as Buffers. */
export function runScriptBuffer<T>(client: RedisClient, name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<T> {
  return invoker(client, name, true)(keys.length, ...keys, ...args) as Promise<T>;
}

/** Queues a script on a pipeline; its reply arrives with the pipeline's `exec()`. */
export function queueScript(pipeline: ChainableCommander, name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): void {
  invoker(pipeline, name, false)(keys.length, ...keys, ...args);
}

/** Like {@link queueScript}, with bulk strings in the reply kept as Buffers. */
export function queueScriptBuffer(pipeline: ChainableCommander, name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): void {
  invoker(pipeline, name, true)(keys.length, ...keys, ...args);
}
