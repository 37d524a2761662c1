import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsBrookName, MAX_PAGE, Optional, PageSize, ToInteger } from '../http/validation.js';

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

/** Query of `GET /api/v1/dead-letters`. */
export class ListDeadLettersQuery extends DeadLetterScope {
  @ApiPropertyOptional({ description: 'Only this partition.', type: 'integer', minimum: 0, maximum: 4_095 })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(4_095)
  partition?: number;

  @ApiPropertyOptional({ enum: ['handler-error', 'non-retriable', 'undecodable', 'validation', 'timeout'], description: 'Only dead letters with this reason.' })
  @Optional()
  @IsString()
  @MaxLength(32)
  reason?: string;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.', maxLength: 40 })
  @Optional()
  @IsString()
  @MaxLength(40)
  cursor?: string;

  @PageSize('Page size.')
  limit?: number;
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
}

/** Body of `POST /api/v1/dead-letters/replay`. */
export class ReplayDto extends DeadLetterSelectionDto {
  @ApiPropertyOptional({
    enum: ['group', 'topic'],
    default: 'group',
    description: "'group': back to the group that failed them only; 'topic': re-published to the topic, so every group receives them again.",
  })
  @Optional()
  @IsIn(['group', 'topic'])
  to?: 'group' | 'topic';
}
