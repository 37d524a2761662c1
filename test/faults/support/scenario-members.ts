import type { RedisConnection } from '@brook/broker';
import { forkTs } from '../../support/child-process.js';
import type { FaultMember, FaultMemberEvent, FaultMemberSettings } from './members.js';

/** What a scenario member process reports: a fault member's events, and every Redis call that failed and is retried. */
export type ScenarioMemberEvent = FaultMemberEvent | { type: 'request-error'; at: number; operation: string; code: string };

/** A scenario member process. */
export interface ScenarioMember extends Omit<FaultMember, 'events'> {
  events: ScenarioMemberEvent[];
}

/** Settings of a scenario member (see scenario-member.ts): a fault member's, with any deployment. */
export interface ScenarioMemberSettings extends Omit<FaultMemberSettings, 'redisUrl' | 'handlerMs' | 'clockSkewMs' | 'maxWaitMs'> {
  /** The deployment under test, as Brook's `redis` option (`{ sentinels, name }` for Sentinel). */
  deployment: RedisConnection;
}

/** Starts a scenario member process and waits until it joined the group. */
export async function startScenarioMember(name: string, settings: ScenarioMemberSettings): Promise<ScenarioMember> {
  const { child, exited, signal } = forkTs('test/faults/support/scenario-member.ts', {
    DEPLOYMENT: JSON.stringify(settings.deployment),
    RECORD_URL: settings.recordUrl,
    RECORDS: settings.records,
    PREFIX: settings.prefix,
    TOPIC: settings.topic,
    GROUP: settings.group,
    MEMBER: name,
    SESSION_MS: String(settings.sessionMs ?? 2_000),
    HEARTBEAT_MS: String(settings.heartbeatMs ?? 100),
    CONCURRENCY: String(settings.concurrency ?? 8),
    ATTEMPTS: String(settings.attempts ?? 3),
    BACKOFF_MS: String(settings.backoffMs ?? 100),
    RETRY_MODE: settings.retryMode ?? 'blocking',
  });
  const events: ScenarioMemberEvent[] = [];
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (message: ScenarioMemberEvent) => {
      events.push(message);
      if (message.type === 'ready') resolve(message.memberId);
    });
    void exited.then(() => reject(new Error(`scenario member ${name} exited before joining`)));
  });
  const member: ScenarioMember = {
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

/** The partitions a member holds now, from the rebalance events it reported. */
export function ownedPartitions(member: { events: readonly ScenarioMemberEvent[] }): Set<number> {
  const partitions = new Set<number>();
  for (const event of member.events) {
    if (event.type !== 'rebalance') continue;
    for (const { partitions: revoked } of event.revoked) revoked.forEach((p) => partitions.delete(p));
    for (const { partitions: assigned } of event.assigned) assigned.forEach((p) => partitions.add(p));
  }
  return partitions;
}
