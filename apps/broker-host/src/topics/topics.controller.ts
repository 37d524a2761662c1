import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Brook, TopicDescription } from '@brook/broker';
import { RequireRole } from '../auth/require-role.decorator.js';
import { BROOK } from '../brook/brook.tokens.js';
import type { ResolvedHostOptions } from '../config/host-options.js';
import { HOST_OPTIONS } from '../config/host-options.tokens.js';
import { TopicNamePipe } from '../http/param.pipes.js';
import { TopicDescriptionDto } from '../topology/topology.dto.js';
import { AddPartitionsDto, CreateTopicDto } from './topics.dto.js';

/** `/api/v1/topics`: list, create, describe, grow, delete. */
@ApiTags('topics')
@ApiBearerAuth()
@Controller('api/v1/topics')
export class TopicsController {
  constructor(
    @Inject(BROOK) private readonly brook: Brook,
    @Inject(HOST_OPTIONS) private readonly options: ResolvedHostOptions,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Every topic with its partition count.' })
  async list(): Promise<{ topics: Array<{ topic: string; partitions: number }> }> {
    return { topics: await this.brook.admin().listTopics() };
  }

  @Post()
  @RequireRole('admin')
  @ApiOperation({ summary: 'Creates a topic: 201 when created, 200 when it existed with the same configuration, 409 when with another.' })
  async create(@Body() body: CreateTopicDto, @Res({ passthrough: true }) response: Response): Promise<{ topic: string; created: boolean }> {
    const created = await this.brook.admin().createTopic({ topic: body.topic, partitions: body.partitions, retention: body.retention });
    response.status(created ? 201 : 200);
    return { topic: body.topic, created };
  }

  @Get(':topic')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Retention and, per partition, log start and end offsets, leader, replicas, in-sync replicas and each replica\'s lag.' })
  @ApiOkResponse({ type: TopicDescriptionDto })
  describe(@Param('topic', TopicNamePipe) topic: string): Promise<TopicDescription> {
    return this.brook.admin().describeTopic(topic, { maxLagBytes: this.options.maxReplicaLagBytes });
  }

  @Post(':topic/partitions')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Grows a topic to the given partition count; partitions never shrink.' })
  async addPartitions(@Param('topic', TopicNamePipe) topic: string, @Body() body: AddPartitionsDto): Promise<{ topic: string; partitions: number }> {
    await this.brook.admin().addPartitions(topic, body.partitions);
    return { topic, partitions: body.partitions };
  }

  @Delete(':topic')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiOperation({ summary: "Deletes a topic with its messages and every group's state on it." })
  async remove(@Param('topic', TopicNamePipe) topic: string): Promise<void> {
    await this.brook.admin().deleteTopic(topic);
  }
}
