/**
 * Handler runs of share-group members — in this process or in child processes — logged on one
 * clock: Redis `TIME`, read by the same script that appends the event to a Redis list, so the
 * list's order and the times agree. A run's start also records the lock Redis holds for it: the
 * record's pending entry (owner, idle time, delivery count) gives the moment its acquisition lock
 * runs out (`now - idle + acquisitionLockMs`), which is when share-fetch lets any member take it.
 *
 * No vitest import: child processes (share-member-process.ts) use this module too.
 */
import type { Redis } from 'ioredis';
import type { ShareConsumer, ShareMessageHandler, ShareMessagePayload } from '@brook/broker';
import { KeySpace } from '../../libs/broker/src/redis/keys.js';

/** A record's stream ID in its partition log: offsets are `0-<offset + 1>` (see ARCHITECTURE.md). */
export function streamIdOf(offset: number): string {
  return `0-${offset + 1}`;
}

/** A record's identity within a topic. */
export const recordOf = (run: { partition: number; offset: number }) => `${run.partition}:${run.offset}`;

/**
 * Appends one event with the Redis time; for events about a held record (ARGV[3] its stream ID)
 * also the record's pending entry and the end of its lock.
 *
 * KEYS[1] events list; KEYS[2] the partition log; KEYS[3] hash member → handlers in flight.
 * ARGV[1] the event as JSON; ARGV[2] the share group; ARGV[3] stream ID or ''; ARGV[4] lock ms;
 * ARGV[5] the member id the record should be held by.
 */
const LOG_EVENT = `
local t = redis.call('TIME')
local event = cjson.decode(ARGV[1])
event.t = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] ~= '' then
  local found = redis.pcall('XPENDING', KEYS[2], ARGV[2], ARGV[3], ARGV[3], 1)
  if type(found) == 'table' and not found.err and #found > 0 then
    event.held = found[1][2] == ARGV[5]
    event.dc = found[1][4]
    event.lockEnd = event.t - found[1][3] + tonumber(ARGV[4])
  else
    event.held = false
  end
end
if event.e == 'start' then redis.call('HINCRBY', KEYS[3], event.m, 1) end
if event.e == 'end' or event.e == 'fail' then redis.call('HINCRBY', KEYS[3], event.m, -1) end
return redis.call('RPUSH', KEYS[1], cjson.encode(event))
`;

/** One logged event, as the script stored it. */
export interface ShareEvent {
  /** start / end / fail of a run, abort of its signal, renew after renewLock() resolved, lost ('lock.lost'), killed / frozen / thawed marks. */
  e: 'start' | 'end' | 'fail' | 'abort' | 'renew' | 'lost' | 'killed' | 'frozen' | 'thawed';
  m: string;
  p: number;
  o: number;
  d: number;
  /** Redis time, ms. */
  t: number;
  /** Whether the record was pending under the logging member (events about a held record). */
  held?: boolean;
  /** The delivery count of the pending entry. */
  dc?: number;
  /** When the record's lock runs out, on the Redis clock. */
  lockEnd?: number;
  /** end / fail: whether the handler's signal was aborted by then. */
  aborted?: boolean;
}

/** One handler invocation for one delivery of a record. */
export interface ShareRun {
  member: string;
  partition: number;
  offset: number;
  delivery: number;
  start: number;
  /** Position of the start event in the list. */
  startIndex: number;
  /** Missing while the handler runs, and forever when its process was killed. */
  end?: number;
  failed?: boolean;
  /** The lock's end on the Redis clock, as of the start or the last renewal. */
  lockEnd: number;
  /** The record was pending under this member with this delivery count when the run started. */
  heldAtStart: boolean;
  /** When the handler's signal aborted, and the position of that event in the list. */
  abortAt?: number;
  abortIndex?: number;
  abortedAtEnd?: boolean;
  /** The member reported 'lock.lost' for this delivery. */
  lockLost: boolean;
}

export interface ShareRunLogSettings {
  redis: Redis;
  prefix: string;
  topic: string;
  group: string;
  /** The members' acquisitionLockMs. */
  lockMs: number;
  /** The Redis list. */
  key: string;
}

/** Writes and reads the event list. */
export class ShareRunLog {
  readonly key: string;
  private readonly keys: KeySpace;

  constructor(private readonly settings: ShareRunLogSettings) {
    this.key = settings.key;
    this.keys = new KeySpace(settings.prefix);
  }

  /** Appends an event; `memberId` given: with the lock of the record the event is about. */
  async record(event: Omit<ShareEvent, 't'>, memberId?: string): Promise<void> {
    const { redis, group, topic, lockMs } = this.settings;
    const id = memberId === undefined ? '' : streamIdOf(event.o);
    await redis.eval(LOG_EVENT, 3, this.key, this.keys.log(topic, event.p ?? 0), `${this.key}:in-flight`, JSON.stringify(event), group, id, lockMs, memberId ?? '');
  }

  /** A mark on the clock (a kill, a freeze, a thaw). */
  mark(e: 'killed' | 'frozen' | 'thawed', member: string): Promise<void> {
    return this.record({ e, m: member, p: 0, o: -1, d: 0 });
  }

  /**
   * Wraps a handler: logs its start (with the lock), the abort of its signal, each renewal that
   * resolved (with the new lock), its end or failure.
   */
  wrap(member: string, consumer: ShareConsumer, handler: ShareMessageHandler): ShareMessageHandler {
    return async (payload: ShareMessagePayload) => {
      const base = { m: member, p: payload.partition, o: payload.message.offset, d: payload.deliveryCount };
      await this.record({ e: 'start', ...base }, consumer.memberId);
      const signal = payload.signal;
      const onAbort = () => void this.record({ e: 'abort', ...base }).catch(() => undefined);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      const renew = payload.renewLock;
      payload.renewLock = async () => {
        await renew();
        await this.record({ e: 'renew', ...base }, consumer.memberId);
      };
      try {
        await handler(payload);
      } catch (error) {
        await this.record({ e: 'fail', ...base, aborted: signal.aborted });
        throw error;
      }
      await this.record({ e: 'end', ...base, aborted: signal.aborted });
    };
  }

  /** Logs the consumer's 'lock.lost' events. */
  watch(member: string, consumer: ShareConsumer): void {
    consumer.on('lock.lost', ({ partition, offset, deliveryCount }) => void this.record({ e: 'lost', m: member, p: partition, o: offset, d: deliveryCount }).catch(() => undefined));
  }

  /** A member's handlers in flight, as its log says. */
  async inFlightOf(member: string): Promise<number> {
    return Number((await this.settings.redis.hget(`${this.key}:in-flight`, member)) ?? 0);
  }

  async events(): Promise<ShareEvent[]> {
    return (await this.settings.redis.lrange(this.key, 0, -1)).map((line) => JSON.parse(line) as ShareEvent);
  }

  /**
   * The runs, in start order. A killed member's runs end at its kill mark at the latest; what it
   * logged after the mark is ignored (it was sent before it died).
   */
  async runs(): Promise<{ runs: ShareRun[]; marks: ShareEvent[] }> {
    return collectRuns(await this.events());
  }
}

export function collectRuns(events: readonly ShareEvent[]): { runs: ShareRun[]; marks: ShareEvent[] } {
  const marks = events.filter((event) => event.e === 'killed' || event.e === 'frozen' || event.e === 'thawed');
  const killedAt = new Map(events.map((event, index) => [event, index] as const).filter(([event]) => event.e === 'killed').map(([event, index]) => [event.m, index]));
  const runs: ShareRun[] = [];
  const open = new Map<string, ShareRun>();
  const lost = new Set<string>();
  const idOf = (event: ShareEvent) => `${event.m}/${event.p}:${event.o}/${event.d}`;
  events.forEach((event, index) => {
    if (index > (killedAt.get(event.m) ?? Infinity)) return;
    const id = idOf(event);
    const run = open.get(id);
    switch (event.e) {
      case 'start': {
        const started: ShareRun = {
          member: event.m,
          partition: event.p,
          offset: event.o,
          delivery: event.d,
          start: event.t,
          startIndex: index,
          lockEnd: event.lockEnd ?? -Infinity,
          heldAtStart: event.held === true && event.dc === event.d,
          lockLost: false,
        };
        runs.push(started);
        open.set(id, started);
        break;
      }
      case 'renew':
        if (run !== undefined && event.held === true && event.lockEnd !== undefined) run.lockEnd = Math.max(run.lockEnd, event.lockEnd);
        break;
      case 'abort':
        if (run !== undefined && run.abortAt === undefined) {
          run.abortAt = event.t;
          run.abortIndex = index;
        }
        break;
      case 'end':
      case 'fail':
        if (run !== undefined) {
          run.end = event.t;
          run.failed = event.e === 'fail';
          run.abortedAtEnd = event.aborted;
        }
        break;
      case 'lost':
        lost.add(id);
        break;
      default:
    }
  });
  for (const run of runs) run.lockLost = lost.has(`${run.member}/${run.partition}:${run.offset}/${run.delivery}`);
  return { runs, marks };
}

/** Lost records (no run succeeded) and duplicated ones (run more than once). */
export function tallyShare(runs: readonly ShareRun[], total: number) {
  const byRecord = groupByRecord(runs);
  const handled = [...byRecord.values()].filter((list) => list.some((run) => run.end !== undefined && !run.failed)).length;
  const duplicates = [...byRecord.values()].filter((list) => list.length > 1);
  return { handled, lost: total - handled, duplicates, byRecord };
}

export function groupByRecord(runs: readonly ShareRun[]): Map<string, ShareRun[]> {
  const byRecord = new Map<string, ShareRun[]>();
  for (const run of [...runs].sort((a, b) => a.startIndex - b.startIndex)) {
    const id = recordOf(run);
    const list = byRecord.get(id);
    if (list === undefined) byRecord.set(id, [run]);
    else list.push(run);
  }
  return byRecord;
}

/**
 * Pairs of runs of one record (different deliveries) that overlap while both were within their
 * lock: a run counts from its start until it ended or its lock ran out, whichever came first; one
 * that never ended (killed) until its lock ran out. Share groups allow none.
 */
export function lockOverlaps(runs: readonly ShareRun[]): string[] {
  const within = (run: ShareRun) => Math.min(run.end ?? Infinity, run.lockEnd);
  const overlaps: string[] = [];
  for (const [record, list] of groupByRecord(runs)) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const [x, y] = [list[i], list[j]];
        if (x.start < within(y) && y.start < within(x)) {
          overlaps.push(`${record}: ${x.member} delivery ${x.delivery} (${x.start}–${within(x)}) and ${y.member} delivery ${y.delivery} (${y.start}–${within(y)})`);
        }
      }
    }
  }
  return overlaps;
}

/** Pairs of runs of one record that overlap at all (one ran past its lock while the next delivery ran). */
export function anyOverlaps(runs: readonly ShareRun[]): number {
  let count = 0;
  for (const list of groupByRecord(runs).values()) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const [x, y] = [list[i], list[j]];
        if (x.start < (y.end ?? Infinity) && y.start < (x.end ?? Infinity)) count++;
      }
    }
  }
  return count;
}

/**
 * Runs that finished successfully after their lock ran out and whose member did not report
 * 'lock.lost' for them — results the member treated as committed although the record could
 * already belong to another member.
 */
export function lateAccepted(runs: readonly ShareRun[]): ShareRun[] {
  return runs.filter((run) => run.end !== undefined && !run.failed && run.end >= run.lockEnd && !run.lockLost);
}
