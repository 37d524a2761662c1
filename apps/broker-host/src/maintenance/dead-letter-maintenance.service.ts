import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Brook } from '@brook/broker';
import { BROOK } from '../brook/brook.tokens.js';

/** What the controller did with dead letters on this host. */
export interface DeadLetterMaintenanceStatus {
  /** Dead letters removed by retention, per group and topic, since this host started. */
  removed: Array<{ topic: string; group: string; removed: number }>;
  /** Whether this host is carrying out replay jobs now. */
  runningJobs: boolean;
}

/**
 * The controller's dead-letter duties: retention of every group's dead letters, and carrying out
 * replay jobs. Called on each maintenance pass of the active controller; a job keeps running
 * across passes while this host leads, and the next leader resumes it from its stored cursors.
 */
@Injectable()
export class DeadLetterMaintenance {
  private readonly logger = new Logger('Controller');
  private readonly removed = new Map<string, { topic: string; group: string; removed: number }>();
  private jobs: Promise<void> | undefined;

  constructor(@Inject(BROOK) private readonly brook: Brook) {}

  /** One pass: retention now, and replay jobs in the background while `isLeader()` holds. */
  async pass(isLeader: () => boolean): Promise<void> {
    this.startJobs(isLeader);
    const results = await this.brook.admin().deadLetters.retention.enforce();
    for (const result of results) {
      const key = `${result.group}/${result.topic}`;
      const total = this.removed.get(key) ?? { topic: result.topic, group: result.group, removed: 0 };
      total.removed += result.removed;
      this.removed.set(key, total);
      this.logger.log(`Dead-letter retention removed ${result.removed} of '${result.group}' on '${result.topic}'`);
    }
  }

  status(): DeadLetterMaintenanceStatus {
    return { removed: [...this.removed.values()].map((entry) => ({ ...entry })), runningJobs: this.jobs !== undefined };
  }

  /** Waits for the replay jobs in flight to stop (they stop once `isLeader()` turns false). */
  async stopped(): Promise<void> {
    await this.jobs;
  }

  private startJobs(isLeader: () => boolean): void {
    if (this.jobs !== undefined) return;
    this.jobs = this.brook
      .admin()
      .deadLetters.jobs.runPending(isLeader)
      .catch((error: unknown) => this.logger.warn(`Replay jobs paused: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.jobs = undefined;
      });
  }
}
