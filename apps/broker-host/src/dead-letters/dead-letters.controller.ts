import { Body, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { AuditEntry, Brook, DeadLetter, DeadLetterCount, DeadLetterFilter, DeadLetterRetention, ReplayJobStatus, ReplayPreview, ReplayResult, SkipResult } from '@brook/broker';
import type { Principal } from '../auth/admin-tokens.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { RequireRole } from '../auth/require-role.decorator.js';
import { BROOK } from '../brook/brook.tokens.js';
import { toMessageView } from '../messages/message-view.js';
import { AuditQuery, CountDeadLettersQuery, DeadLetterRetentionDto, DeadLetterScope, ListDeadLettersQuery, PurgeDto, ReplayDto, SkipDto } from './dead-letters.dto.js';

/** `/api/v1/dead-letters`: list, inspect, count, replay, purge, audit. */
@ApiTags('dead letters')
@ApiBearerAuth()
@Controller('api/v1/dead-letters')
export class DeadLettersController {
  constructor(@Inject(BROOK) private readonly brook: Brook) {}

  @Get()
  @RequireRole('operator')
  @ApiOperation({
    summary:
      "A page of a group's dead letters on a topic, with payloads: filter by reason, error name, error message text, key, partition, offset range and " +
      'failure time, combined; page with cursor. A page examines at most 10,000 candidates of the index and may come back short with a cursor.',
  })
  async list(@Query() query: ListDeadLettersQuery) {
    const page = await this.brook.admin().deadLetters.list(query as ListDeadLettersQuery & DeadLetterFilter);
    return { items: page.items.map(toView), nextCursor: page.nextCursor };
  }

  @Get('count')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'How many dead letters each group holds per topic.' })
  count(@Query() query: CountDeadLettersQuery): Promise<DeadLetterCount> {
    return this.brook.admin().deadLetters.count(query);
  }

  @Get('audit')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Every replay and purge, newest first, naming the token that did it.' })
  audit(@Query() query: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    return this.brook.admin().deadLetters.audit(query);
  }

  @Post('replay')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary:
      'Sends dead letters back: to the group that failed them (default) or re-published to the topic; select by ids, all or filter. dryRun: true only ' +
      'counts and samples. More than 500 run as a replay job (returned in job). Messages replayed maxReplays times are parked unless force. Audited.',
  })
  async replay(@Body() body: ReplayDto, @CurrentPrincipal() principal: Principal): Promise<ReplayResult | ReplayPreview> {
    const result: ReplayResult | ReplayPreview = await this.brook.admin().deadLetters.replay({ ...body, filter: body.filter as DeadLetterFilter | undefined, actor: principal.name });
    return isPreview(result) ? { ...result, sample: result.sample.map(toView) } : result;
  }

  @Get('replays')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Replay jobs, newest first, with their progress.' })
  async replayJobs(): Promise<{ items: ReplayJobStatus[] }> {
    return { items: await this.brook.admin().deadLetters.listReplayJobs() };
  }

  @Get('replays/:id')
  @RequireRole('viewer')
  @ApiParam({ name: 'id', description: 'The replay job id a replay answered with.' })
  @ApiOperation({ summary: "A replay job's state and progress: matched, replayed, parked, partitions done." })
  async replayJob(@Param('id') id: string): Promise<ReplayJobStatus> {
    return requireJob(id, await this.brook.admin().deadLetters.replayJob(id));
  }

  @Delete('replays/:id')
  @RequireRole('operator')
  @ApiParam({ name: 'id', description: 'The replay job id a replay answered with.' })
  @ApiOperation({ summary: 'Cancels a replay job after its current step (what it replayed stays replayed). Audited.' })
  async deleteReplayJob(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<ReplayJobStatus> {
    return requireJob(id, await this.brook.admin().deadLetters.cancelReplayJob(id, principal.name));
  }

  @Post('replays/:id/cancel')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiParam({ name: 'id', description: 'The replay job id a replay answered with.' })
  @ApiOperation({ summary: 'Cancels a replay job, as DELETE does. Audited.' })
  async cancelReplayJob(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<ReplayJobStatus> {
    return requireJob(id, await this.brook.admin().deadLetters.cancelReplayJob(id, principal.name));
  }

  @Post('purge')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Deletes dead letters for good (dryRun: only counts and samples them). Recorded in the audit log.' })
  purge(@Body() body: PurgeDto, @CurrentPrincipal() principal: Principal): Promise<{ purged: number; missing: string[] } | ReplayPreview> {
    return this.brook.admin().deadLetters.purge({ ...body, filter: body.filter as DeadLetterFilter | undefined, actor: principal.name });
  }

  @Post('skip')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary: "Skips the message a group's partition is stuck on (blocking retries): dead-letters it with reason 'operator' so the partition moves on. Audited.",
  })
  skip(@Body() body: SkipDto, @CurrentPrincipal() principal: Principal): Promise<SkipResult> {
    return this.brook.admin().deadLetters.skip({ ...body, actor: principal.name });
  }

  @Get('retention')
  @RequireRole('viewer')
  @ApiOperation({ summary: "How long a group's dead letters on a topic are kept (maxAgeMs, maxCount per partition; custom: false means the defaults)." })
  retention(@Query() query: DeadLetterScope): Promise<DeadLetterRetention & { custom: boolean }> {
    return this.brook.admin().deadLetters.retention.get(query);
  }

  @Put('retention')
  @RequireRole('admin')
  @ApiOperation({ summary: "Sets how long a group's dead letters on a topic are kept; the active controller applies it on its next pass." })
  setRetention(@Body() body: DeadLetterRetentionDto): Promise<DeadLetterRetention> {
    return this.brook.admin().deadLetters.retention.set(body);
  }

  @Get(':id')
  @RequireRole('operator')
  @ApiOperation({ summary: "One dead letter by id, with its payload and diagnosis." })
  async get(@Param('id') id: string, @Query() query: DeadLetterScope) {
    const letter = await this.brook.admin().deadLetters.get({ ...query, id });
    if (letter === null) throw new NotFoundException(`Dead letter '${id}' of group '${query.group}' on '${query.topic}' does not exist (any more); list them with GET /api/v1/dead-letters.`);
    return toView(letter);
  }
}

function isPreview(result: ReplayResult | ReplayPreview): result is ReplayPreview {
  return 'dryRun' in result;
}

function requireJob(id: string, job: ReplayJobStatus | null): ReplayJobStatus {
  if (job === null) throw new NotFoundException(`Replay job '${id}' does not exist; list them with GET /api/v1/dead-letters/replays.`);
  return job;
}

function toView(letter: DeadLetter) {
  return { ...letter, message: toMessageView(letter.message) };
}
