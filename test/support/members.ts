import { forkTs, type TsProcess } from './child-process.js';

/** What a member process reports. */
export type MemberEvent =
  | { type: 'ready'; memberId: string }
  | { type: 'rebalance'; at: number; assigned: Array<{ topic: string; partitions: number[] }>; revoked: Array<{ topic: string; partitions: number[] }> }
  | { type: 'lost'; at: number; topic: string; partition: number; reason: string }
  | { type: 'crash'; error: string }
  | { type: 'stopped' };

/** A consumer group member running in a child process. */
export interface MemberProcess extends TsProcess {
  name: string;
  events: MemberEvent[];
  memberId: string;
  /** Graceful: consumer.stop() and exit. */
  stop(): Promise<void>;
}

export interface MemberSettings {
  redisUrl: string;
  prefix: string;
  topic: string;
  group: string;
  records: string;
  sessionMs?: number;
  heartbeatMs?: number;
  handlerDelayMs?: number;
  attempts?: number;
  backoffMs?: number;
  retryMode?: 'blocking' | 'non-blocking';
}

/** Starts a member process and waits until it has joined the group. */
export async function startMember(name: string, settings: MemberSettings): Promise<MemberProcess> {
  const { child, exited, signal } = forkTs('test/support/member-process.ts', {
    REDIS_URL: settings.redisUrl,
    PREFIX: settings.prefix,
    TOPIC: settings.topic,
    GROUP: settings.group,
    RECORDS: settings.records,
    MEMBER: name,
    SESSION_MS: String(settings.sessionMs ?? 2_000),
    HEARTBEAT_MS: String(settings.heartbeatMs ?? 100),
    HANDLER_DELAY_MS: String(settings.handlerDelayMs ?? 0),
    ATTEMPTS: String(settings.attempts ?? 3),
    BACKOFF_MS: String(settings.backoffMs ?? 1_000),
    RETRY_MODE: settings.retryMode ?? 'blocking',
  });
  const events: MemberEvent[] = [];
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (message: MemberEvent) => {
      events.push(message);
      if (message.type === 'ready') resolve(message.memberId);
    });
    void exited.then(() => reject(new Error(`member ${name} exited before joining`)));
  });
  const member: MemberProcess = {
    name,
    child,
    events,
    memberId: '',
    exited,
    signal,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.send('stop');
      await exited;
    },
  };
  member.memberId = await ready;
  return member;
}
