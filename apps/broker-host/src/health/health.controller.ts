import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import type { Brook } from '@brook/broker';
import { Public } from '../auth/require-role.decorator.js';
import { BROOK } from '../brook/brook.tokens.js';
import { BrokerSnapshotService } from '../snapshot/broker-snapshot.service.js';

/** How long a probe waits for each check before it reports it down. */
const CHECK_TIMEOUT_MS = 2_000;

/** `GET /health`: Redis reachable, and every partition served by a primary. */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly snapshots: BrokerSnapshotService,
    @Inject(BROOK) private readonly brook: Brook,
  ) {}

  /** Public for probes, so it says up or down and counts, never names or addresses. */
  @Get()
  @Public()
  @SkipThrottle()
  @HealthCheck()
  @ApiOperation({ summary: 'Redis reachable, and every partition of every topic served by a Redis primary. 503 when not.' })
  async check(@Res({ passthrough: true }) response: Response): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () =>
          this.indicators
            .check('redis')
            .attempt(() => this.brook.admin().ping())
            .withTimeout(CHECK_TIMEOUT_MS),
        () =>
          this.indicators
            .check('topology')
            .attempt(() => this.topology())
            .withTimeout(CHECK_TIMEOUT_MS),
      ]);
    } catch (error) {
      // Terminus reports a failed check as a 503 whose body is the full result; keep that body.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      response.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }

  private async topology() {
    const snapshot = await this.snapshots.get();
    if (snapshot.error !== null) throw new Error('Redis could not be read');
    const partitions = snapshot.topics.flatMap((topic) => topic.partitions);
    const leaderless = partitions.filter((partition) => partition.leader === 'unknown').length;
    if (leaderless > 0) throw new Error(`${leaderless} partition(s) have no Redis primary serving them`);
    return {
      topics: snapshot.topics.length,
      partitions: partitions.length,
      primaries: new Set(partitions.map((partition) => partition.leader)).size,
      minReplicas: partitions.length === 0 ? null : Math.min(...partitions.map((partition) => partition.inSyncReplicas.length)),
      truncated: snapshot.truncated,
    };
  }
}
