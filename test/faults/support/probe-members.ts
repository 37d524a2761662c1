import type { ConsumerOptions, RedisConnection } from '@brook/broker';
import { forkTs, type TsProcess } from '../../support/child-process.js';
import { forkPlain } from './plain-node.js';

/** A topic a probe member subscribes to, with its own retry policy (the library's defaults where left out). */
export interface ProbeTopic {
  topic: string;
  retryMode?: 'blocking' | 'non-blocking';
  attempts?: number;
  /** Fixed backoff without jitter. */
  backoffMs?: number;
}

/** Memory of a probe member process, in bytes. */
export interface MemoryProbe {
  rss: number;
  heapUsed: number;
  /** The highest resident memory the process ever had. */
  maxRss: number;
}

/** What a probe member process reports. */
export type ProbeMemberEvent =
  | { type: 'ready'; memberId: string }
  | { type: 'rebalance'; at: number; assigned: Array<{ topic: string; partitions: number[] }>; revoked: Array<{ topic: string; partitions: number[] }> }
  | { type: 'lost'; at: number; topic: string; partition: number; reason: string }
  | { type: 'skipped'; at: number; topic: string; partition: number; from: number; to: number; count: number }
  | { type: 'data-loss'; at: number; message: string }
  | { type: 'holding'; at: number; uid: string; topic: string; partition: number }
  | { type: 'crash'; error: string }
  | ({ type: 'probe' } & MemoryProbe)
  | { type: 'stopped'; stopMs: number; closeMs: number };

/** Settings of a probe member process (see probe-member.ts). */
export interface ProbeMemberSettings {
  /** The deployment under test, as Brook's `redis` option. */
  deployment: RedisConnection;
  /** Where runs are recorded: not the Redis faults are injected into. */
  recordUrl: string;
  records: string;
  prefix: string;
  group: string;
  topics: ProbeTopic[];
  /** Consumer options over the library's defaults. */
  consumer?: Partial<Omit<ConsumerOptions, 'group' | 'codec'>>;
  handlerMs?: number;
  concurrency?: number;
  /**
   * 'node': plain Node running a bundle of the member, for memory figures that are Brook's own
   * (see plain-node.ts). @defaultValue 'vite-node'
   */
  runtime?: 'vite-node' | 'node';
}

export interface ProbeMember extends TsProcess {
  name: string;
  memberId: string;
  events: ProbeMemberEvent[];
  /** Asks the process for its memory. */
  probe(): Promise<MemoryProbe>;
  /** Graceful: consumer.stop() and brook.close(); resolves with how long each took (ms, from the start of the stop). */
  stop(): Promise<{ stopMs: number; closeMs: number }>;
}

/** Starts a probe member process and waits until it joined the group. */
export async function startProbeMember(name: string, settings: ProbeMemberSettings): Promise<ProbeMember> {
  const env = {
    DEPLOYMENT: JSON.stringify(settings.deployment),
    RECORD_URL: settings.recordUrl,
    RECORDS: settings.records,
    PREFIX: settings.prefix,
    GROUP: settings.group,
    MEMBER: name,
    TOPICS: JSON.stringify(settings.topics),
    CONSUMER: JSON.stringify(settings.consumer ?? {}),
    HANDLER_MS: String(settings.handlerMs ?? 0),
    CONCURRENCY: String(settings.concurrency ?? 8),
  };
  const script = 'test/faults/support/probe-member.ts';
  const { child, exited, signal } = settings.runtime === 'node' ? await forkPlain(script, env) : forkTs(script, env);
  const events: ProbeMemberEvent[] = [];
  const waiting = new Set<(event: ProbeMemberEvent) => void>();
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (message: ProbeMemberEvent) => {
      events.push(message);
      for (const listener of [...waiting]) listener(message);
      if (message.type === 'ready') resolve(message.memberId);
    });
    void exited.then(() => reject(new Error(`probe member ${name} exited before joining`)));
  });
  const next = <T extends ProbeMemberEvent['type']>(type: T): Promise<Extract<ProbeMemberEvent, { type: T }>> =>
    new Promise((resolve, reject) => {
      const listener = (event: ProbeMemberEvent) => {
        if (event.type !== type) return;
        waiting.delete(listener);
        resolve(event as Extract<ProbeMemberEvent, { type: T }>);
      };
      waiting.add(listener);
      void exited.then(() => {
        waiting.delete(listener);
        reject(new Error(`probe member ${name} exited before reporting '${type}'`));
      });
    });
  const member: ProbeMember = {
    name,
    child,
    events,
    memberId: '',
    exited,
    signal,
    probe: async () => {
      const reply = next('probe');
      child.send('probe');
      const { rss, heapUsed, maxRss } = await reply;
      return { rss, heapUsed, maxRss };
    },
    stop: async () => {
      const reply = next('stopped');
      child.send('stop');
      const { stopMs, closeMs } = await reply;
      await exited;
      return { stopMs, closeMs };
    },
  };
  member.memberId = await ready;
  return member;
}
