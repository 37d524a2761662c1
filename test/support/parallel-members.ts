import { forkTs, type TsProcess } from './child-process.js';
import { rawRedis } from './brook.js';
import type { HandlerRun } from './handler-runs.js';

/** What a parallel member process reports over IPC. */
export type ParallelMemberEvent =
  | { type: 'ready'; memberId: string }
  | { type: 'lost'; topic: string; partition: number; reason: string }
  | { type: 'crash'; error: string }
  | { type: 'hanging'; offsets: number[] }
  | { type: 'stopped' };

export interface ParallelMember extends TsProcess {
  name: string;
  memberId: string;
  events: ParallelMemberEvent[];
}

export interface ParallelMemberSettings {
  redisUrl: string;
  prefix: string;
  topic: string;
  group: string;
  /** The Redis list every member logs its handler runs to. */
  events: string;
  handler?: 'each-message' | 'each-batch';
  ordering?: 'key' | 'none' | 'partition';
  concurrency?: number;
  sessionMs?: number;
  heartbeatMs?: number;
  handlerMinMs?: number;
  handlerMaxMs?: number;
  maxBatchSize?: number;
  hangAtOffset?: number;
}

/** Starts a member process (see parallel-member-process.ts) and waits until it has joined the group. */
export async function startParallelMember(name: string, settings: ParallelMemberSettings): Promise<ParallelMember> {
  const { child, exited, signal } = forkTs('test/support/parallel-member-process.ts', {
    REDIS_URL: settings.redisUrl,
    PREFIX: settings.prefix,
    TOPIC: settings.topic,
    GROUP: settings.group,
    EVENTS: settings.events,
    MEMBER: name,
    HANDLER: settings.handler ?? 'each-message',
    ORDERING: settings.ordering ?? 'key',
    CONCURRENCY: String(settings.concurrency ?? 100),
    SESSION_MS: String(settings.sessionMs ?? 1_500),
    HEARTBEAT_MS: String(settings.heartbeatMs ?? 100),
    HANDLER_MIN_MS: String(settings.handlerMinMs ?? 0),
    HANDLER_MAX_MS: String(settings.handlerMaxMs ?? settings.handlerMinMs ?? 0),
    MAX_BATCH_SIZE: String(settings.maxBatchSize ?? 500),
    ...(settings.hangAtOffset === undefined ? {} : { HANG_AT_OFFSET: String(settings.hangAtOffset) }),
  });
  const events: ParallelMemberEvent[] = [];
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (message: ParallelMemberEvent) => {
      events.push(message);
      if (message.type === 'ready') resolve(message.memberId);
    });
    void exited.then(() => reject(new Error(`member ${name} exited before joining`)));
  });
  const member: ParallelMember = { name, child, exited, signal, events, memberId: '' };
  member.memberId = await ready;
  return member;
}

interface LoggedEvent {
  e: string;
  m: string;
  p: number;
  o: number;
  k: string | null;
  s: number;
  a: number;
  offsets?: number[];
  upTo?: number;
}

/** The Redis list the member processes log their handler runs to, with one connection to read it. */
export class MemberEventLog {
  private readonly redis = rawRedis();

  constructor(readonly key: string) {}

  /** SIGKILLs `member`, waits until it is gone, and marks the moment in the list. */
  async kill(member: ParallelMember): Promise<void> {
    member.signal('SIGKILL');
    await member.exited;
    await this.redis.rpush(this.key, JSON.stringify({ e: 'killed', m: member.name }));
  }

  /** A member's handlers in flight, as it counts them. */
  async inFlightOf(member: string): Promise<number> {
    return Number((await this.redis.hget(`${this.key}:in-flight`, member)) ?? 0);
  }

  async events(): Promise<LoggedEvent[]> {
    return (await this.redis.lrange(this.key, 0, -1)).map((line) => JSON.parse(line) as LoggedEvent);
  }

  /**
   * The eachMessage runs, the list position as their clock. A killed member's runs end at its kill
   * mark at the latest (its process was gone then); what it logged after the mark was sent before
   * it died and is ignored.
   */
  async runs(): Promise<{ runs: HandlerRun[]; killedAt: Map<string, number> }> {
    const events = await this.events();
    const killedAt = new Map<string, number>();
    events.forEach((event, index) => {
      if (event.e === 'killed') killedAt.set(event.m, index);
    });
    const runs: HandlerRun[] = [];
    const open = new Map<string, HandlerRun[]>();
    events.forEach((event, index) => {
      if (index > (killedAt.get(event.m) ?? Infinity)) return;
      const id = `${event.m}/${event.p}:${event.o}`;
      if (event.e === 'start') {
        const run: HandlerRun = { member: event.m, partition: event.p, offset: event.o, key: event.k, seq: event.s, attempt: event.a, start: index };
        runs.push(run);
        open.set(id, [...(open.get(id) ?? []), run]);
      } else if (event.e === 'end') {
        const run = open.get(id)?.shift();
        if (run !== undefined) {
          run.end = index;
          run.failed = false;
        }
      }
    });
    return { runs, killedAt };
  }
}
