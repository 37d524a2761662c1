import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import { IsBrookName } from '../http/validation.js';

/** Partitions per topic, as the library bounds them. */
export const MAX_PARTITIONS = 4_096;

/** A topic's retention; absent or null limits mean unlimited. */
export class RetentionDto {
  @ApiPropertyOptional({ description: 'Keep about this many messages per partition; null or absent: unlimited.', minimum: 1, nullable: true, type: Number })
  @IsOptional()
  @IsInt()
  @Min(1)
  maxMessages?: number | null;

  @ApiPropertyOptional({ description: 'Remove messages older than this (ms); null or absent: unlimited.', minimum: 1, nullable: true, type: Number })
  @IsOptional()
  @IsInt()
  @Min(1)
  maxAgeMs?: number | null;
}

/** Body of `POST /api/v1/topics`. */
export class CreateTopicDto {
  @ApiProperty({ description: "1 to 200 of A-Z a-z 0-9 . _ -; not '.', '..' or starting with '__'.", example: 'orders.created' })
  @IsBrookName('topic')
  topic!: string;

  @ApiPropertyOptional({ description: 'Number of partitions.', minimum: 1, maximum: MAX_PARTITIONS, default: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_PARTITIONS)
  partitions?: number;

  @ApiPropertyOptional({ type: RetentionDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RetentionDto)
  retention?: RetentionDto;
}

/** Body of `POST /api/v1/topics/{topic}/partitions`. */
export class AddPartitionsDto {
  @ApiProperty({ description: 'The new partition count; partitions only grow.', minimum: 1, maximum: MAX_PARTITIONS })
  @IsInt()
  @Min(1)
  @Max(MAX_PARTITIONS)
  partitions!: number;
}
