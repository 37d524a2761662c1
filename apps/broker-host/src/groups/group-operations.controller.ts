import { Controller, Delete, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Brook, DeleteGroupResult, LagSample } from '@brook/broker';
import type { Principal } from '../auth/admin-tokens.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { RequireRole } from '../auth/require-role.decorator.js';
import { BROOK } from '../brook/brook.tokens.js';
import { GroupNamePipe, TopicNamePipe } from '../http/param.pipes.js';
import { DeleteGroupQuery, LagHistoryQuery } from './group-operations.dto.js';

/** `/api/v1/groups/{group}`: deletion and lag history. */
@ApiTags('groups')
@ApiBearerAuth()
@Controller('api/v1/groups/:group')
export class GroupOperationsController {
  constructor(@Inject(BROOK) private readonly brook: Brook) {}

  @Get('topics/:topic/lag-history')
  @RequireRole('viewer')
  @ApiOperation({ summary: "The group's lag on the topic over time (count and seconds, total and per partition), sampled by the maintenance controller; the last 24 hours are kept." })
  async lagHistory(
    @Param('group', GroupNamePipe) group: string,
    @Param('topic', TopicNamePipe) topic: string,
    @Query() query: LagHistoryQuery,
  ): Promise<{ group: string; topic: string; samples: LagSample[] }> {
    // Checks the group and topic exist, so a typo is a 404 rather than an empty history.
    await this.brook.admin().describeGroup({ group, topic });
    return { group, topic, samples: await this.brook.admin().lagHistory({ group, topic, ...query }) };
  }

  @Delete()
  @RequireRole('admin')
  @ApiOperation({ summary: 'Deletes the group and every key of it (positions, pending, retries, dead letters, counters, lag history); 409 while members are live unless force. Recorded in the audit log.' })
  deleteGroup(@Param('group', GroupNamePipe) group: string, @Query() query: DeleteGroupQuery, @CurrentPrincipal() principal: Principal): Promise<DeleteGroupResult> {
    return this.brook.admin().deleteGroup({ group, force: query.force ?? false, actor: principal.name });
  }
}
