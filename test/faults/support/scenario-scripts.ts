/**
 * Tells Brook's script calls apart as they pass a `FaultProxy`, so a scenario can drop the replies
 * of one kind of command. ioredis sends a script as EVAL (full source) or EVALSHA, so the name says
 * nothing: a call is recognised by the roles of its keys (log, lease, attempts, …, built with
 * `KeySpace` for the scenario's topic and group), and by its arguments where two scripts share a
 * key layout.
 */
import { KeySpace } from '../../../libs/broker/src/redis/keys.js';
import type { CommandMatcher, FaultProxy, ProxiedCommand } from '../../support/fault-proxy.js';

/** The kinds of script call a scenario can target. */
export const SCRIPT_KINDS = [
  'produce', 'fetch', 'ack', 'claim', 'record-failure', 'schedule-retry', 'take-due', 'ack-delayed', 'dead-letter',
  'renew-leases', 'membership', 'acquire-lease', 'release-lease', 'reset-offset',
] as const;

export type ScriptKind = (typeof SCRIPT_KINDS)[number];

/** The keys a scenario's scripts touch. */
export interface ScriptScope {
  prefix: string;
  topic: string;
  partitions: number;
  group: string;
}

/** Key layouts (roles in KEYS order) of the scripts whose layout is their own. */
const LAYOUTS: Record<string, ScriptKind> = {
  'log producers times': 'produce',
  'log lease attempts': 'claim',
  'log lease attempts stats delay delay-msgs delay-taken': 'schedule-retry',
  'log lease attempts stats delay-msgs delay-taken dlt dlt-tags dlt-keys dlt-postings dlt-postings dlt-replays': 'dead-letter',
  'lease attempts delay delay-msgs delay-taken': 'take-due',
  'lease attempts stats delay-msgs delay-taken': 'ack-delayed',
  'members member-info assignment topics origins': 'membership',
};

/** Classifies script calls on the keys of `scope`. */
export class ScriptClassifier {
  private readonly roles = new Map<string, string>();
  /** Key prefixes of the dead-letter index's posting streams (one per tag, named after it). */
  private readonly postings: string[] = [];

  constructor(scope: ScriptScope) {
    const keys = new KeySpace(scope.prefix);
    const { topic, group } = scope;
    for (let p = 0; p < scope.partitions; p++) {
      const partitionRoles: Array<[string, string]> = [
        [keys.log(topic, p), 'log'], [keys.producers(topic, p), 'producers'], [keys.timeIndex(topic, p), 'times'],
        [keys.lease(topic, p, group), 'lease'], [keys.attempts(topic, p, group), 'attempts'], [keys.stats(topic, p, group), 'stats'],
        [keys.delayQueue(topic, p, group), 'delay'], [keys.delayPayloads(topic, p, group), 'delay-msgs'],
        [keys.delayTaken(topic, p, group), 'delay-taken'], [keys.deadLetters(topic, p, group), 'dlt'],
        [keys.deadLetterTags(topic, p, group), 'dlt-tags'], [keys.deadLetterKeys(topic, p, group), 'dlt-keys'],
        [keys.deadLetterReplays(topic, p, group), 'dlt-replays'],
      ];
      for (const [key, role] of partitionRoles) this.roles.set(key, role);
      this.postings.push(keys.deadLetterPostings(topic, p, group, ''));
    }
    const groupRoles = ['members', 'member-info', 'assignment', 'topics', 'origins'];
    keys.membershipKeys(group).forEach((key, i) => this.roles.set(key, groupRoles[i]));
  }

  /** The kind of a script call on the scope's keys, or undefined for anything else. */
  kindOf({ name, args }: ProxiedCommand): ScriptKind | undefined {
    if (name !== 'EVAL' && name !== 'EVALSHA') return undefined;
    const numKeys = Number(args[1]?.toString('latin1'));
    if (!Number.isInteger(numKeys) || numKeys < 1) return undefined;
    const roles = args.slice(2, 2 + numKeys).map((key) => this.roleOf(key.toString('latin1')));
    if (roles.includes(undefined)) return undefined;
    const argv = args.slice(2 + numKeys).map((arg) => arg.toString('latin1'));
    const layout = roles.join(' ');
    if (LAYOUTS[layout] !== undefined) return LAYOUTS[layout];
    // acquire-lease and release-lease share their keys; acquire-lease takes five arguments
    // (token, member, lease time, group, start), release-lease two (token, group).
    if (layout === 'lease log delay delay-taken') return argv.length === 5 ? 'acquire-lease' : 'release-lease';
    // ack and record-failure share their keys; record-failure ends with its error as JSON.
    if (layout === 'log lease attempts stats') return argv[argv.length - 1]?.startsWith('{') ? 'record-failure' : 'ack';
    // reset-offset takes one partition and four arguments (group, offset, token, force); a fetch of
    // one partition already takes more.
    if (isPairs(roles as string[], 'log', 'lease')) return numKeys === 2 && argv.length === 4 ? 'reset-offset' : 'fetch';
    if (isPairs(roles as string[], 'lease', 'delay')) return 'renew-leases';
    return undefined;
  }

  private roleOf(key: string): string | undefined {
    return this.roles.get(key) ?? (this.postings.some((prefix) => key.startsWith(prefix)) ? 'dlt-postings' : undefined);
  }

  /** Matches calls of `kind`. */
  calls(kind: ScriptKind): CommandMatcher {
    return (command) => this.kindOf(command) === kind;
  }
}

function isPairs(roles: string[], first: string, second: string): boolean {
  return roles.length % 2 === 0 && roles.every((role, i) => role === (i % 2 === 0 ? first : second));
}

/** A series of dropped replies a scenario armed. */
export interface ReplyDrops {
  /** When each drop was complete (`Date.now()` once the client connection closed): the fault instants. */
  readonly instants: number[];
  /** Stops dropping; a drop already under way still completes. */
  disarm(): void;
}

/**
 * Drops the replies of up to `max` commands `match` matches, one at a time: after each drop (the
 * command ran, the reply is lost, the connection closes) it lets `every - 1` matching commands
 * through and drops the next, so the client makes progress between faults.
 */
export function dropRepliesOf(proxy: FaultProxy, match: CommandMatcher, { max, every = 1 }: { max: number; every?: number }): ReplyDrops {
  const instants: number[] = [];
  let armed = true;
  void (async () => {
    while (armed && instants.length < max) {
      let passed = 0;
      await proxy.dropReplyOnce((command) => armed && match(command) && ++passed >= every);
      instants.push(Date.now());
    }
  })();
  return {
    instants,
    disarm: () => {
      armed = false;
    },
  };
}
