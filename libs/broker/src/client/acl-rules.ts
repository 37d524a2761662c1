import { KeySpace } from '../redis/keys.js';

/**
 * Every command Brook sends, as Redis ACL names (`command|subcommand` where only some subcommands
 * are needed). Redis checks the commands a Lua script runs against the user that runs the script,
 * so the scripts' commands are listed as well as the client's own.
 */
export const BROOK_ACL_COMMANDS = [
  // Connection set-up by ioredis: the ready check and the connection name; QUIT on close.
  'info',
  'ping',
  'quit',
  'client|setname',
  // Brook's scripts: ioredis sends EVAL the first time on each connection, EVALSHA after that
  // (and EVAL again when the server lost its scripts: a restart, a failover).
  'evalsha',
  'eval',
  // acks: 'all', and the Redis clock and version checks.
  'wait',
  'time',
  // Redis Cluster: ioredis reads the slot map, Brook the shards (partition leaders and replicas).
  'cluster|slots',
  'cluster|shards',
  'cluster|info',
  // Streams: partition logs, consumer groups and dead-letter logs.
  'xadd',
  'xrange',
  'xrevrange',
  'xread',
  'xreadgroup',
  'xack',
  'xclaim',
  'xautoclaim',
  'xpending',
  'xlen',
  'xdel',
  'xtrim',
  'xgroup|create',
  'xgroup|destroy',
  'xgroup|delconsumer',
  'xinfo|stream',
  'xinfo|groups',
  'xinfo|consumers',
  // Hashes: the topic and group registries, producer state, leases' companions, statistics.
  'hget',
  'hset',
  'hdel',
  'hmget',
  'hgetall',
  'hincrby',
  'hkeys',
  'hlen',
  'hrandfield',
  // Sorted sets: group members, retry queues, time indexes.
  'zadd',
  'zrem',
  'zcard',
  'zcount',
  'zscore',
  'zrange',
  'zrangebyscore',
  'zrevrangebyscore',
  'zremrangebyscore',
  // Strings and keys: leases, the controller lease, wake-up keys.
  'get',
  'set',
  'del',
  'exists',
  'pexpire',
  'pttl',
] as const;

/**
 * The Redis ACL rules a user needs to run Brook with key prefix `prefix` and nothing more: its
 * keys only (`~<prefix>:*`), no pub/sub channels, and exactly the commands Brook sends. Pass them
 * to `ACL SETUSER <user> on ><password> …rules`, e.g.
 * `ACL SETUSER brook on >secret ${brookAclRules('brook').join(' ')}`.
 *
 * @throws InvalidArgumentError when `prefix` is not a valid key prefix.
 */
export function brookAclRules(prefix = 'brook'): string[] {
  const keys = new KeySpace(prefix);
  return ['resetkeys', `~${keys.prefix}:*`, 'resetchannels', '-@all', ...BROOK_ACL_COMMANDS.map((command) => `+${command}`)];
}
