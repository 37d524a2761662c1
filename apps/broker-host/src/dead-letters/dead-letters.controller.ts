import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuditEntry, Brook, DeadLetter, DeadLetterCount, DeadLetterReason } from '@brook/broker';
import type { Principal } from '../auth/admin-tokens.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { RequireRole } from '../auth/require-role.decorator.js';
import { BROOK } from '../brook/brook.tokens.js';
import { toMessageView } from '../messages/message-view.js';
import { AuditQuery, CountDeadLettersQuery, DeadLetterScope, DeadLetterSelectionDto, ListDeadLettersQuery, ReplayDto } from './dead-letters.dto.js';

/** `/api/v1/dead-letters`: list, inspect, count, replay, purge, audit. */
@ApiTags('dead letters')
@ApiBearerAuth()
@Controller('api/v1/dead-letters')
export class DeadLettersController {
  constructor(@Inject(BROOK) private readonly brook: Brook) {}

  @Get()
  @RequireRole('operator')
  @ApiOperation({ summary: "A page of a group's dead letters on a topic, with payloads; filter by partition and reason, page with cursor." })
  async list(@Query() query: ListDeadLettersQuery) {
    const page = await this.brook.admin().deadLetters.list({ ...query, reason: query.reason as DeadLetterReason | undefined });
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
  @ApiOperation({ summary: "Sends dead letters back: to the group that failed them (default) or re-published to the topic. Recorded in the audit log." })
  replay(@Body() body: ReplayDto, @CurrentPrincipal() principal: Principal): Promise<{ replayed: number; missing: string[] }> {
    return this.brook.admin().deadLetters.replay({ ...body, actor: principal.name });
  }

  @Post('purge')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Deletes dead letters for good. Recorded in the audit log.' })
  purge(@Body() body: DeadLetterSelectionDto, @CurrentPrincipal() principal: Principal): Promise<{ purged: number; missing: string[] }> {
    return this.brook.admin().deadLetters.purge({ ...body, actor: principal.name });
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

function toView(letter: DeadLetter) {
  return { ...letter, message: toMessageView(letter.message) };
}
