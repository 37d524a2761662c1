import { forkTs, type TsProcess } from '../../support/child-process.js';

/** What a fault member process reports. */
export type FaultMemberEvent =
  | { type: 'ready'; memberId: string }
  | { type: 'rebalance'; at: number; assigned: Array<{ topic: string; partitions: number[] }>; revoked: Array<{ topic: string; partitions: number[] }> }
  | { type: 'lost'; at: number; topic: string; partition: number; reason: string }
  | { type: 'data-loss'; at: number; message: string }
  | { type: 'holding'; at: number; uid: string }
  | { type: 'crash'; error: string }
  | { type: 'stopped' };

/** Settings of a fault member process (see fault-member.ts). */
export interface FaultMemberSettings {
  /** The deployment under test. */
  redisUrl: string;
  /** Where runs are recorded: not the Redis faults are injected into. */
  recordUrl: string;
  records: string;
  prefix: string;
  topic: string;
  group: string;
  sessionMs?: number;
  heartbeatMs?: number;
  handlerMs?: number;
  concurrency?: number;
  attempts?: number;
  backoffMs?: number;
  retryMode?: 'blocking' | 'non-blocking';
  clockSkewMs?: number;
  maxWaitMs?: number;
}

export interface FaultMember extends TsProcess {
  name: string;
  memberId: string;
  events: FaultMemberEvent[];
  /** Graceful: consumer.stop() and exit. */
  stop(): Promise<void>;
}

/** Starts a member process and waits until it joined the group. */
export async function startFaultMember(name: string, settings: FaultMemberSettings): Promise<FaultMember> {
  const { child, exited, signal } = forkTs('test/faults/support/fault-member.ts', {
    REDIS_URL: settings.redisUrl,
    RECORD_URL: settings.recordUrl,
    RECORDS: settings.records,
    PREFIX: settings.prefix,
    TOPIC: settings.topic,
    GROUP: settings.group,
    MEMBER: name,
    SESSION_MS: String(settings.sessionMs ?? 2_000),
    HEARTBEAT_MS: String(settings.heartbeatMs ?? 100),
    HANDLER_MS: String(settings.handlerMs ?? 0),
    CONCURRENCY: String(settings.concurrency ?? 8),
    ATTEMPTS: String(settings.attempts ?? 3),
    BACKOFF_MS: String(settings.backoffMs ?? 100),
    RETRY_MODE: settings.retryMode ?? 'blocking',
    CLOCK_SKEW_MS: String(settings.clockSkewMs ?? 0),
    MAX_WAIT_MS: String(settings.maxWaitMs ?? 1_000),
  });
  const events: FaultMemberEvent[] = [];
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (message: FaultMemberEvent) => {
      events.push(message);
      if (message.type === 'ready') resolve(message.memberId);
    });
    void exited.then(() => reject(new Error(`fault member ${name} exited before joining`)));
  });
  const memberProcess: FaultMember = {
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
  memberProcess.memberId = await ready;
  return memberProcess;
}
