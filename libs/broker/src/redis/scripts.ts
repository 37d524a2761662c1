import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

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
  'share-fetch',
  'share-settle',
  'share-member',
  'share-leave',
  'replay-dead-letters',
  'remove-dead-letters',
  'search-dead-letters',
  'replay-job-step',
  'acquire-controller',
  'release-controller',
] as const;

export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** A script argument as Redis receives it. */
export type ScriptArg = string | number | Buffer;

/** A connection (standalone or cluster) with Brook's scripts defined on it. */
export type RedisClient = Redis | Cluster;

const INCLUDE = /^--#include (lib\/[a-z-]+\.lua)$/gm;

/**
 * A script's source with its `--#include lib/<name>.lua` lines replaced by those files: helpers
 * several scripts share (the Redis clock, byte-budgeted reads, message checks) are written once.
 * The shebang line that declares the script's flags stays first.
 */
export function loadScriptSource(name: ScriptName): string {
  const source = readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
  return source.replace(INCLUDE, (_, path: string) => readFileSync(new URL(`./scripts/${path}`, import.meta.url), 'utf8').trimEnd());
}

const SOURCES: Record<ScriptName, string> = Object.fromEntries(SCRIPT_NAMES.map((name) => [name, loadScriptSource(name)])) as Record<ScriptName, string>;

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

type ScriptInvoker = (numKeys: number, ...args: ScriptArg[]) => Promise<unknown>;

/** Sends a script on `client`; with `buffers`, bulk strings in the reply stay Buffers. */
export function sendScript(client: RedisClient, name: ScriptName, keys: readonly string[], args: readonly ScriptArg[], buffers: boolean): Promise<unknown> {
  const method = (client as unknown as Record<string, ScriptInvoker | undefined>)[commandName(name) + (buffers ? 'Buffer' : '')];
  if (method === undefined) throw new Error(`Script ${name} is not defined on this connection`);
  return method.call(client, keys.length, ...keys, ...args);
}
