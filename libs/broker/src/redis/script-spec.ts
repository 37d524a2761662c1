import type { KeySpace } from './keys.js';
import type { ScriptArg, ScriptName } from './scripts.js';

/**
 * How one Lua script is called: its keys (always built through {@link KeySpace}, never from
 * ARGV), its arguments, and how its reply is read. Callers pass a named input and get a typed
 * reply; nobody spells positional arguments at a call site.
 */
export interface ScriptSpec<Input, Reply> {
  readonly name: ScriptName;
  /** Keep bulk strings of the reply as Buffers (payloads). */
  readonly buffers: boolean;
  keys(keys: KeySpace, input: Input): string[];
  args(input: Input): ScriptArg[];
  parse(reply: unknown): Reply;
  /** What the call does, for error messages: "acknowledge messages of partition 3 of 'orders'". */
  describe(input: Input): string;
}

export function spec<Input, Reply>(definition: Omit<ScriptSpec<Input, Reply>, 'buffers'> & { buffers?: boolean }): ScriptSpec<Input, Reply> {
  return { buffers: false, ...definition };
}

/** A partition of a topic, as scripts address it. */
export interface PartitionRef {
  topic: string;
  partition: number;
}

/** A partition as one group's worker, holding the lease with `token`, addresses it. */
export interface OwnedPartitionRef extends PartitionRef {
  group: string;
  token: string;
}

export const where = ({ topic, partition }: PartitionRef) => `partition ${partition} of '${topic}'`;
export const text = (value: unknown) => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));
export const num = (value: unknown) => Number(Buffer.isBuffer(value) ? value.toString('latin1') : value);
export const list = (value: unknown) => (Array.isArray(value) ? value : []);
export const texts = (value: unknown) => list(value).map(text);
/** Failure records of a reply: a Buffer each, or null where there is none. */
export const failureList = (value: unknown) => list(value).map((item) => (Buffer.isBuffer(item) ? item : null));
