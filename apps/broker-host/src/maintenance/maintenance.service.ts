import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Brook, ControllerLease, LeaseHolder } from '@brook/broker';
import { BROOK } from '../brook/brook.tokens.js';
import type { ResolvedHostOptions } from '../config/host-options.js';
import { HOST_OPTIONS } from '../config/host-options.tokens.js';
import { DeadLetterMaintenance } from './dead-letter-maintenance.service.js';

/** One maintenance pass of the controller. */
export interface MaintenanceRun {
  startedAt: number;
  durationMs: number;
  /** Messages removed by age retention, over every topic. */
  removed: number;
  /** Why the pass failed, or null. */
  error: string | null;
}

/** What `GET /api/v1/controller` reports. */
export interface ControllerStatus {
  hostId: string;
  /** Whether this host is the active controller. */
  isLeader: boolean;
  /** The term this host leads, or null. */
  epoch: number | null;
  /** The active controller as this host last saw it. */
  leader: LeaseHolder | null;
  leaseMs: number;
  intervalMs: number;
  /** Passes this host ran, and how many failed. */
  runs: number;
  failedRuns: number;
  /** Messages this host removed by retention since it started. */
  removed: number;
  lastRun: MaintenanceRun | null;
}

const INTERVAL_NAME = 'brook-maintenance';

/**
 * The maintenance controller: every broker host campaigns for the controller lease, and only the
 * leader enforces retention on schedule. When the leader dies another host takes over within one
 * lease time; when it shuts down it hands over at once.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Controller');
  private readonly lease: ControllerLease;
  private running: Promise<void> | undefined;
  private runs = 0;
  private failedRuns = 0;
  private removed = 0;
  private lastRun: MaintenanceRun | null = null;

  constructor(
    @Inject(BROOK) private readonly brook: Brook,
    @Inject(HOST_OPTIONS) private readonly options: ResolvedHostOptions,
    private readonly scheduler: SchedulerRegistry,
    private readonly deadLetters: DeadLetterMaintenance,
  ) {
    this.lease = brook.controllerLease({ leaseMs: options.controllerLeaseMs, holderId: options.hostId });
    this.lease.on('elected', ({ epoch }) => this.logger.log(`This host is the active controller (term ${epoch})`));
    this.lease.on('revoked', ({ epoch, reason }) => this.logger.log(`This host stopped being the controller (term ${epoch}: ${reason})`));
  }

  onApplicationBootstrap(): void {
    // Not awaited: with Redis down the first campaign waits for the client's reconnects, and the
    // host should be up meanwhile to say so on /health.
    void this.lease.start();
    this.scheduler.addInterval(INTERVAL_NAME, setInterval(() => this.tick(), this.options.maintenanceIntervalMs));
  }

  async onModuleDestroy(): Promise<void> {
    if (this.scheduler.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
    // A pass in flight is not waited for: trimming is idempotent, and with Redis down it could take
    // as long as the client's reconnects. Handing the lease over promptly matters more.
    await this.lease.close();
  }

  status(): ControllerStatus {
    return {
      hostId: this.options.hostId,
      isLeader: this.lease.isLeader,
      epoch: this.lease.epoch,
      leader: this.lease.leader,
      leaseMs: this.options.controllerLeaseMs,
      intervalMs: this.options.maintenanceIntervalMs,
      runs: this.runs,
      failedRuns: this.failedRuns,
      removed: this.removed,
      lastRun: this.lastRun,
    };
  }

  /**
   * Whether this host is the active controller, confirmed with Redis (a leader paused since its
   * last renewal must not act beside its successor). Other scheduled duties of the controller ask this.
   */
  async confirmLeadership(): Promise<boolean> {
    return this.lease.isLeader && (await this.lease.confirm());
  }

  private tick(): void {
    // A pass slower than the interval is not stacked on top of itself.
    if (this.running !== undefined || !this.lease.isLeader) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }

  private async run(): Promise<void> {
    // Ask Redis, not only the clock: a leader paused since its last renewal must not trim beside its successor.
    if (!(await this.lease.confirm())) return;
    const startedAt = Date.now();
    try {
      const results = await this.brook.admin().enforceRetention();
      const removed = results.reduce((sum, result) => sum + result.removed, 0);
      this.removed += removed;
      this.lastRun = { startedAt, durationMs: Date.now() - startedAt, removed, error: null };
      if (removed > 0) this.logger.log(`Retention removed ${removed} message(s)`);
      await this.deadLetters.pass(() => this.lease.isLeader);
    } catch (error) {
      this.failedRuns++;
      const message = error instanceof Error ? error.message : String(error);
      this.lastRun = { startedAt, durationMs: Date.now() - startedAt, removed: 0, error: message };
      this.logger.warn(`Retention pass failed: ${message}`);
    } finally {
      this.runs++;
    }
  }
}
