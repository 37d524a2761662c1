import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import type { Brook } from '@brook/broker';
import { Public } from '../auth/require-role.decorator.js';
import { BROOK } from '../brook/brook.tokens.js';
import { BrokerSnapshotService } from '../snapshot/broker-snapshot.service.js';

/** How long a health probe waits for Redis before it reports it down. */
const PING_TIMEOUT_MS = 2_000;

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
  check() {
    return this.health.check([
      () =>
        this.indicators
          .check('redis')
          .attempt(() => this.brook.admin().ping())
          .withTimeout(PING_TIMEOUT_MS),
      async () => {
        const topology = this.indicators.check('topology');
        const snapshot = await this.snapshots.get();
        if (snapshot.error !== null) return topology.down({ message: 'Redis could not be read' });
        const partitions = snapshot.topics.flatMap((topic) => topic.partitions);
        const leaderless = partitions.filter((partition) => partition.leader === 'unknown').length;
        const details = {
          topics: snapshot.topics.length,
          partitions: partitions.length,
          primaries: new Set(partitions.map((partition) => partition.leader)).size,
          minReplicas: partitions.length === 0 ? null : Math.min(...partitions.map((partition) => partition.replicas.length)),
          leaderless,
          truncated: snapshot.truncated,
        };
        return leaderless > 0 ? topology.down(details) : topology.up(details);
      },
    ]);
  }
}
