import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsBrookName, MAX_PAGE, Nested, Optional, PageSize, ToBoolean, ToInteger } from '../http/validation.js';

const REASONS = ['handler-error', 'non-retriable', 'undecodable', 'validation', 'timeout', 'operator'];
const MAX_MS = 8_640_000_000_000_000;
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

const NAME_PATTERN = '^[A-Za-z0-9._-]{1,200}$';

/** Which group's dead letters on which topic. */
export class DeadLetterScope {
  @ApiProperty({ description: 'The topic the messages came from.', pattern: NAME_PATTERN })
  @IsBrookName('topic')
  topic!: string;

  @ApiProperty({ description: 'The group that failed them.', pattern: NAME_PATTERN })
  @IsBrookName('group')
  group!: string;
}

/** The filters of a dead-letter search, replay or purge; every one given narrows the selection. */
export class DeadLetterFilterDto {
  @ApiPropertyOptional({ description: 'Only this partition.', type: 'integer', minimum: 0, maximum: 4_095 })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(4_095)
  partition?: number;

  @ApiPropertyOptional({ enum: REASONS, description: 'Only dead letters with this reason.' })
  @Optional()
  @IsIn(REASONS)
  reason?: string;

  @ApiPropertyOptional({ description: 'Only failures whose error has exactly this name (TypeError, ValidationError, …).', maxLength: 1_000 })
  @Optional()
  @IsString()
  @MaxLength(1_000)
  errorName?: string;

  @ApiPropertyOptional({ description: 'Only failures whose error message contains this text (case-insensitive).', maxLength: 1_000 })
  @Optional()
  @IsString()
  @MaxLength(1_000)
  errorMessage?: string;

  @ApiPropertyOptional({ description: 'Only messages with exactly this key.', maxLength: 1_000 })
  @Optional()
  @IsString()
  @MaxLength(1_000)
  key?: string;

  @ApiPropertyOptional({ description: 'Only messages whose original offset is at least this.', type: 'integer', minimum: 0 })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  fromOffset?: number;

  @ApiPropertyOptional({ description: 'Only messages whose original offset is at most this.', type: 'integer', minimum: 0 })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  toOffset?: number;

  @ApiPropertyOptional({ description: 'Only dead letters that failed last at or after this time (ms since the epoch).', type: 'integer', minimum: 0 })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_MS)
  from?: number;

  @ApiPropertyOptional({ description: 'Only dead letters that failed last at or before this time (ms since the epoch).', type: 'integer', minimum: 0 })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_MS)
  to?: number;

  @ApiPropertyOptional({ description: 'Only parked messages (replayed maxReplays times already), or only those not parked.' })
  @Optional()
  @ToBoolean()
  @IsBoolean()
  parked?: boolean;
}

/** Query of `GET /api/v1/dead-letters`. */
export class ListDeadLettersQuery extends DeadLetterFilterDto {
  @ApiProperty({ description: 'The topic the messages came from.', pattern: NAME_PATTERN })
  @IsBrookName('topic')
  topic!: string;

  @ApiProperty({ description: 'The group that failed them.', pattern: NAME_PATTERN })
  @IsBrookName('group')
  group!: string;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.', maxLength: 40 })
  @Optional()
  @IsString()
  @MaxLength(40)
  cursor?: string;

  @PageSize('Page size.')
  limit?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 1_000, default: 3, description: 'Replays after which a message counts as parked.' })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(1_000)
  maxReplays?: number;
}

/** Query of `GET /api/v1/dead-letters/count`. */
export class CountDeadLettersQuery {
  @ApiPropertyOptional({ description: 'Only this topic.', pattern: NAME_PATTERN })
  @Optional()
  @IsBrookName('topic')
  topic?: string;

  @ApiPropertyOptional({ description: 'Only this group.', pattern: NAME_PATTERN })
  @Optional()
  @IsBrookName('group')
  group?: string;
}

/** Query of `GET /api/v1/dead-letters/audit`. */
export class AuditQuery {
  @PageSize('Page size.')
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.', maxLength: 40 })
  @Optional()
  @IsString()
  @MaxLength(40)
  cursor?: string;
}

/** The listed dead letters, or all of the group's on the topic. */
export class DeadLetterSelectionDto extends DeadLetterScope {
  @ApiPropertyOptional({
    description: "Dead-letter ids from the list ('<partition>-<ms>-<seq>'). Give ids or all: true.",
    type: 'array',
    items: { type: 'string', maxLength: 40 },
    minItems: 1,
    maxItems: MAX_PAGE,
  })
  @Optional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PAGE)
  @IsString({ each: true })
  @MaxLength(40, { each: true })
  ids?: string[];

  @ApiPropertyOptional({ description: 'Every dead letter of the group on the topic (those there now; later arrivals are left alone).' })
  @Optional()
  @IsBoolean()
  all?: boolean;

  @ApiPropertyOptional({ description: 'The dead letters matching these filters (as GET /api/v1/dead-letters). Give ids, all: true or filter.', type: DeadLetterFilterDto })
  @Optional()
  @Nested(() => DeadLetterFilterDto)
  filter?: DeadLetterFilterDto;
}

/** Body of `POST /api/v1/dead-letters/replay`. */
export class PurgeDto extends DeadLetterSelectionDto {
  @ApiPropertyOptional({ default: false, description: 'Only count what matches and return a sample; change nothing.' })
  @Optional()
  @IsBoolean()
  dryRun?: boolean;
}

export class ReplayDto extends DeadLetterSelectionDto {
  @ApiPropertyOptional({
    enum: ['group', 'topic'],
    default: 'group',
    description: "'group': back to the group that failed them only; 'topic': re-published to the topic, so every group receives them again.",
  })
  @Optional()
  @IsIn(['group', 'topic'])
  to?: 'group' | 'topic';

  @ApiPropertyOptional({ default: false, description: 'Only count what matches and return a sample; change nothing.' })
  @Optional()
  @IsBoolean()
  dryRun?: boolean;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 1_000, default: 3, description: 'A message replayed this often already is parked instead of replayed (0: no cap).' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(1_000)
  maxReplays?: number;

  @ApiPropertyOptional({ default: false, description: 'Replay parked messages too.' })
  @Optional()
  @IsBoolean()
  force?: boolean;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100_000, default: 1_000, description: 'Pace of a replay job (a selection of more than 500 runs as one).' })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  maxPerSecond?: number;
}

/** Body of `PUT /api/v1/dead-letters/retention`. */
export class DeadLetterRetentionDto extends DeadLetterScope {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 1_209_600_000, description: 'Dead letters older than this (ms since dead-lettered) are removed; 0 keeps them by age. Default 14 days.' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  maxAgeMs?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 100_000, description: "Each partition keeps at most this many of the group's dead letters, oldest removed first; 0: no limit." })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  maxCount?: number;
}

/** Body of `POST /api/v1/dead-letters/skip`. */
export class SkipDto extends DeadLetterScope {
  @ApiProperty({ description: 'The partition the group is stuck on.', type: 'integer', minimum: 0, maximum: 4_095 })
  @IsInt()
  @Min(0)
  @Max(4_095)
  partition!: number;
}
