import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Brook } from '@brook/broker';
import { BROOK } from '../brook/brook.tokens.js';
import type { ResolvedHostOptions } from '../config/host-options.js';
import { HOST_OPTIONS } from '../config/host-options.tokens.js';
import { MaintenanceService } from './maintenance.service.js';

/** What the lag sampler of this host did since it started. */
export interface LagSamplerStatus {
  intervalMs: number;
  /** Sampling passes run as the controller, and how many failed. */
  runs: number;
  failedRuns: number;
  /** Samples written (one per group and topic per pass). */
  samples: number;
}

const INTERVAL_NAME = 'brook-lag-sampler';

/**
 * The controller's lag sampling: every `lagSampleIntervalMs` the active controller writes each
 * group's lag (count and seconds, per partition) on each topic into the lag history, which keeps
 * 24 hours. Only the confirmed leader samples, so hosts do not write the same history twice.
 */
@Injectable()
export class LagSamplerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('LagSampler');
  private running: Promise<void> | undefined;
  private runs = 0;
  private failedRuns = 0;
  private samples = 0;

  constructor(
    @Inject(BROOK) private readonly brook: Brook,
    @Inject(HOST_OPTIONS) private readonly options: ResolvedHostOptions,
    private readonly maintenance: MaintenanceService,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(INTERVAL_NAME, setInterval(() => this.tick(), this.options.lagSampleIntervalMs));
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
  }

  status(): LagSamplerStatus {
    return { intervalMs: this.options.lagSampleIntervalMs, runs: this.runs, failedRuns: this.failedRuns, samples: this.samples };
  }

  private tick(): void {
    // A pass slower than the interval is not stacked on top of itself.
    if (this.running !== undefined || !this.maintenance.status().isLeader) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }

  private async run(): Promise<void> {
    if (!(await this.maintenance.confirmLeadership())) return;
    try {
      this.samples += await this.brook.admin().recordLagHistory();
    } catch (error) {
      this.failedRuns++;
      this.logger.warn(`Lag sampling failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.runs++;
    }
  }
}
