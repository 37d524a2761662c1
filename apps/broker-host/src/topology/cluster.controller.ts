import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Brook, ClusterDescription } from '@brook/broker';
import { RequireRole } from '../auth/require-role.decorator.js';
import { BROOK } from '../brook/brook.tokens.js';
import type { ResolvedHostOptions } from '../config/host-options.js';
import { HOST_OPTIONS } from '../config/host-options.tokens.js';
import { ClusterDescriptionDto } from './topology.dto.js';

/** `GET /api/v1/cluster`: the Redis servers behind the partitions. */
@ApiTags('cluster')
@ApiBearerAuth()
@Controller('api/v1/cluster')
export class ClusterController {
  constructor(
    @Inject(BROOK) private readonly brook: Brook,
    @Inject(HOST_OPTIONS) private readonly options: ResolvedHostOptions,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Every Redis server: role, slots, replication offset, lag and in-sync state, and the partitions each primary leads.' })
  @ApiOkResponse({ type: ClusterDescriptionDto })
  describe(): Promise<ClusterDescription> {
    return this.brook.admin().describeCluster({ maxLagBytes: this.options.maxReplicaLagBytes });
  }
}
