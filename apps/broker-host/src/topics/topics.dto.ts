import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { IsBrookName, Nested, Nullable, Optional } from '../http/validation.js';

/** Partitions per topic, as the library bounds them. */
export const MAX_PARTITIONS = 4_096;

/** A topic's retention; absent or null limits mean unlimited. */
export class RetentionDto {
  @ApiPropertyOptional({ description: 'Keep about this many messages per partition; null or absent: unlimited.', type: 'integer', minimum: 1, nullable: true })
  @Nullable()
  @IsInt()
  @Min(1)
  maxMessages?: number | null;

  @ApiPropertyOptional({ description: 'Remove messages older than this (ms); null or absent: unlimited.', type: 'integer', minimum: 1, nullable: true })
  @Nullable()
  @IsInt()
  @Min(1)
  maxAgeMs?: number | null;
}

/** Body of `POST /api/v1/topics`. */
export class CreateTopicDto {
  @ApiProperty({ description: "1 to 200 of A-Z a-z 0-9 . _ -; not '.', '..' or starting with '__'.", example: 'orders.created', pattern: '^[A-Za-z0-9._-]{1,200}$' })
  @IsBrookName('topic')
  topic!: string;

  @ApiPropertyOptional({ description: 'Number of partitions.', type: 'integer', minimum: 1, maximum: MAX_PARTITIONS, default: 1 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(MAX_PARTITIONS)
  partitions?: number;

  @ApiPropertyOptional({ type: RetentionDto })
  @Optional()
  @Nested(() => RetentionDto)
  retention?: RetentionDto;
}

/** Body of `POST /api/v1/topics/{topic}/partitions`. */
export class AddPartitionsDto {
  @ApiProperty({ description: 'The new partition count; partitions only grow.', type: 'integer', minimum: 1, maximum: MAX_PARTITIONS })
  @IsInt()
  @Min(1)
  @Max(MAX_PARTITIONS)
  partitions!: number;
}
