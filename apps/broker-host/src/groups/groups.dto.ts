import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, Max, Min } from 'class-validator';
import { Optional } from '../http/validation.js';

/** Where to move a group: exactly one of `to`, `offset` or `timestamp`. */
export class ResetOffsetsDto {
  @ApiPropertyOptional({ enum: ['earliest', 'latest'], description: 'The oldest stored message, or the log end.' })
  @Optional()
  @IsIn(['earliest', 'latest'])
  to?: 'earliest' | 'latest';

  @ApiPropertyOptional({ description: 'This offset on every partition (clamped to what is stored).', type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  offset?: number;

  @ApiPropertyOptional({ description: 'The first message at or after this time (ms since the epoch) on every partition.', type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  timestamp?: number;

  @ApiPropertyOptional({ description: 'Reset even while the group has live members.', default: false })
  @Optional()
  @IsBoolean()
  force?: boolean;
}
