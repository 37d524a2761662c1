import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { UnknownGroupError, UnknownTopicError, type Brook, type GroupDescription, type GroupListing, type ResetTarget } from '@brook/broker';
import { RequireRole } from '../auth/require-role.decorator.js';
import { BROOK } from '../brook/brook.tokens.js';
import { GroupNamePipe, TopicNamePipe } from '../http/param.pipes.js';
import { ResetOffsetsDto } from './groups.dto.js';

/** `/api/v1/groups`: list, describe, reset offsets. */
@ApiTags('groups')
@ApiBearerAuth()
@Controller('api/v1/groups')
export class GroupsController {
  constructor(@Inject(BROOK) private readonly brook: Brook) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Every group with its topics, live member count, total lag and lag in seconds (age of its oldest unfinished message).' })
  async list(): Promise<{ groups: GroupListing[] }> {
    return { groups: await this.brook.admin().listGroups({ lag: true }) };
  }

  @Get(':group')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'A group on every topic it consumes: members, assignment, committed offset, lag and pending per partition.' })
  async describe(@Param('group', GroupNamePipe) group: string): Promise<{ group: string; kind: GroupListing['kind']; members: number; topics: GroupDescription[] }> {
    const admin = this.brook.admin();
    const listing = (await admin.listGroups()).find((candidate) => candidate.group === group);
    if (listing === undefined) throw new UnknownGroupError(group);
    const described = await Promise.all(
      listing.topics.map((topic) =>
        admin.describeGroup({ group, topic }).catch((error: unknown) => {
          // A topic deleted since the group read it is no longer part of the group's picture.
          if (error instanceof UnknownTopicError) return undefined;
          throw error;
        }),
      ),
    );
    return { group, kind: listing.kind, members: listing.members, topics: described.filter((description) => description !== undefined) };
  }

  @Get(':group/topics/:topic')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'A group on one topic: members, assignment, committed offset, lag and pending per partition.' })
  describeTopic(@Param('group', GroupNamePipe) group: string, @Param('topic', TopicNamePipe) topic: string): Promise<GroupDescription> {
    return this.brook.admin().describeGroup({ group, topic });
  }

  @Post(':group/topics/:topic/reset-offsets')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({ summary: "Moves the group's position on every partition of the topic; 409 while members are live unless force." })
  async resetOffsets(
    @Param('group', GroupNamePipe) group: string,
    @Param('topic', TopicNamePipe) topic: string,
    @Body() body: ResetOffsetsDto,
  ): Promise<{ group: string; topic: string; partitions: Array<{ partition: number; offset: number }> }> {
    const partitions = await this.brook.admin().resetOffsets({ group, topic, to: resetTarget(body), force: body.force ?? false });
    return { group, topic, partitions };
  }
}

function resetTarget(body: ResetOffsetsDto): ResetTarget {
  const given = [body.to, body.offset, body.timestamp].filter((value) => value !== undefined).length;
  if (given !== 1) {
    throw new BadRequestException("Give exactly one of to ('earliest' or 'latest'), offset or timestamp, e.g. { \"to\": \"earliest\" } or { \"offset\": 42 }.");
  }
  if (body.to !== undefined) return body.to;
  if (body.offset !== undefined) return { offset: body.offset };
  return { timestamp: body.timestamp! };
}
