import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

/** Where to move a group: exactly one of `to`, `offset` or `timestamp`. */
export class ResetOffsetsDto {
  @ApiPropertyOptional({ enum: ['earliest', 'latest'], description: 'The oldest stored message, or the log end.' })
  @IsOptional()
  @IsIn(['earliest', 'latest'])
  to?: 'earliest' | 'latest';

  @ApiPropertyOptional({ description: 'This offset on every partition (clamped to what is stored).', minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  offset?: number;

  @ApiPropertyOptional({ description: 'The first message at or after this time (ms since the epoch) on every partition.', minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  timestamp?: number;

  @ApiPropertyOptional({ description: 'Reset even while the group has live members.', default: false })
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}
