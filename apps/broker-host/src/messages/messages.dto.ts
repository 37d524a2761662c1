import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Allow, ArrayMaxSize, ArrayMinSize, IsArray, IsBase64, IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { MAX_PAGE, PageSize, ToInteger } from '../http/validation.js';

/** Largest page of a peek, as the library bounds it. */

/** Query of a partition peek. */
export class ReadMessagesQuery {
  @ApiPropertyOptional({ description: 'First offset to return.', minimum: 0, default: 0 })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER - 1)
  offset?: number;

  @PageSize('Most messages to return.')
  limit?: number;
}

/** One message to produce. */
export class ProduceMessageDto {
  @ApiPropertyOptional({ description: "Decides the partition (Kafka's murmur2); absent or null for keyless messages.", nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(65_536)
  key?: string | null;

  @ApiPropertyOptional({ description: 'The payload: a string is stored as text, anything else as JSON. Give this or valueBase64.' })
  @Allow()
  value?: unknown;

  @ApiPropertyOptional({ description: 'The payload as base64-encoded bytes, stored as bytes. Give this or value.' })
  @IsOptional()
  @IsBase64()
  valueBase64?: string;

  @ApiPropertyOptional({ description: 'String to string metadata.', type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsObject()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ description: 'Explicit partition; overrides the key.', minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  partition?: number;

  @ApiPropertyOptional({ description: 'Milliseconds since the epoch; the host clock when absent.', minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  timestamp?: number;
}

/** Body of `POST /api/v1/topics/{topic}/messages`. */
export class ProduceDto {
  @ApiProperty({ type: [ProduceMessageDto], minItems: 1, maxItems: MAX_PAGE })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PAGE)
  @ValidateNested({ each: true })
  @Type(() => ProduceMessageDto)
  messages!: ProduceMessageDto[];
}
