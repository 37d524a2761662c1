import { forkTs, type TsProcess } from './child-process.js';

/** What a share member process reports over IPC. */
export type ShareMemberEvent =
  | { type: 'ready'; memberId: string }
  | { type: 'lock.lost'; topic: string; partition: number; offset: number; deliveryCount: number }
  | { type: 'crash'; error: string }
  | { type: 'request.error'; operation: string; error: string }
  | { type: 'status'; acquired: number }
  | { type: 'stopped' };

/** A share-group member running in a child process (share-member-process.ts). */
export interface ShareMember extends TsProcess {
  name: string;
  memberId: string;
  events: ShareMemberEvent[];
  /** Records the member holds acquired now, as it counts them. */
  acquired(): Promise<number>;
}

export interface ShareMemberSettings {
  redisUrl: string;
  prefix: string;
  topic: string;
  group: string;
  /** The Redis list every member logs its handler runs to (ShareRunLog). */
  events: string;
  lockMs: number;
  concurrency?: number;
  deliveryLimit?: number;
  maxBatchSize?: number;
  handlerMinMs?: number;
  handlerMaxMs?: number;
}

/** Starts a share member process and waits until it has joined the group. */
export async function startShareMember(name: string, settings: ShareMemberSettings): Promise<ShareMember> {
  const { child, exited, signal } = forkTs('test/support/share-member-process.ts', {
    REDIS_URL: settings.redisUrl,
    PREFIX: settings.prefix,
    TOPIC: settings.topic,
    GROUP: settings.group,
    EVENTS: settings.events,
    MEMBER: name,
    LOCK_MS: String(settings.lockMs),
    CONCURRENCY: String(settings.concurrency ?? 20),
    DELIVERY_LIMIT: String(settings.deliveryLimit ?? 5),
    MAX_BATCH_SIZE: String(settings.maxBatchSize ?? 100),
    HANDLER_MIN_MS: String(settings.handlerMinMs ?? 0),
    HANDLER_MAX_MS: String(settings.handlerMaxMs ?? settings.handlerMinMs ?? 0),
  });
  const events: ShareMemberEvent[] = [];
  const statusWaiters: Array<(acquired: number) => void> = [];
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (message: ShareMemberEvent) => {
      events.push(message);
      if (message.type === 'ready') resolve(message.memberId);
      if (message.type === 'status') statusWaiters.shift()?.(message.acquired);
    });
    void exited.then(() => reject(new Error(`share member ${name} exited before joining`)));
  });
  const member: ShareMember = {
    name,
    child,
    exited,
    signal,
    events,
    memberId: '',
    acquired: () =>
      new Promise<number>((resolve) => {
        statusWaiters.push(resolve);
        child.send('status');
      }),
  };
  member.memberId = await ready;
  return member;
}
