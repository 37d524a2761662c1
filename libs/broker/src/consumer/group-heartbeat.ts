import type { BrookContext } from '../client/context.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { MembershipReply } from '../redis/specs/ownership.js';

/** A topic as the member sees it when it heartbeats. */
export interface SubscribedTopic {
  topic: string;
  partitions: number;
  createdAt: number;
}

/** Settings of a {@link GroupHeartbeat}. */
export interface GroupHeartbeatSettings {
  group: string;
  memberId: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** The topics to heartbeat with (those that exist now). */
  topics(): Promise<SubscribedTopic[]>;
  /** Each heartbeat's answer: the generation and this member's assignment. */
  onAssignment(reply: MembershipReply): void;
  reportError(operation: string, error: unknown): void;
}

/**
 * Keeps a member in its group: a heartbeat every interval (and at once after another member's
 * session ends, so its partitions move without delay), each one a single script that also
 * recomputes the assignment when the members or partitions changed. Each heartbeat has a timeout
 * shorter than the session, so a stalled Redis call never silences the member for good.
 */
export class GroupHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private running = false;

  constructor(
    private readonly ctx: BrookContext,
    private readonly settings: GroupHeartbeatSettings,
  ) {}

  /** Joins: resolves after the first heartbeat, rejects when it failed. */
  async start(): Promise<void> {
    this.running = true;
    await this.beatNow();
  }

  /** Heartbeats now, or joins the heartbeat in flight. */
  beatNow(): Promise<void> {
    if (this.beating === undefined) {
      clearTimeout(this.timer);
      this.beating = this.beat().finally(() => {
        this.beating = undefined;
      });
    }
    return this.beating;
  }

  /**
   * Stops heartbeating and leaves the group, so its partitions move at once. A heartbeat in flight
   * is not waited for, and the leave itself waits at most a heartbeat interval (at least a second):
   * if Redis cannot be reached the session simply runs out.
   */
  async leave(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ctx.call(
      SCRIPTS.membership,
      { group: this.settings.group, op: 'leave', memberId: this.settings.memberId, sessionMs: this.settings.sessionTimeoutMs },
      { timeoutMs: Math.min(this.timeoutMs(), Math.max(1_000, this.settings.heartbeatIntervalMs)) },
    );
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private timeoutMs(): number {
    return Math.min(this.ctx.options.connection.commandTimeoutMs, Math.ceil(this.settings.sessionTimeoutMs / 2));
  }

  private async beat(): Promise<void> {
    if (!this.running) return;
    const { group, memberId, sessionTimeoutMs, heartbeatIntervalMs } = this.settings;
    let next = heartbeatIntervalMs;
    try {
      const topics = await this.settings.topics();
      const info = JSON.stringify({ clientId: this.ctx.options.clientId, topics: topics.map(({ topic }) => topic).sort() });
      const reply = await this.ctx.call(SCRIPTS.membership, { group, op: 'join', memberId, sessionMs: sessionTimeoutMs, info, topics }, { timeoutMs: this.timeoutMs() });
      if (!this.running) return;
      this.settings.onAssignment(reply);
      // Beat again right after another member's session ends, so its partitions move without delay.
      if (reply.msUntilNextExpiry >= 0) next = Math.max(5, Math.min(heartbeatIntervalMs, reply.msUntilNextExpiry + 5));
    } finally {
      if (this.running) {
        this.timer = setTimeout(() => {
          this.beatNow().catch((error: unknown) => this.settings.reportError(`heartbeat in group '${group}'`, error));
        }, next);
      }
    }
  }
}
