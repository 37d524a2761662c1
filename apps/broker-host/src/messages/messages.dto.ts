import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsBase64, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsStringRecord, IsWellFormedText, MAX_PAGE, Nested, Nullable, Optional, PageSize, ToInteger } from '../http/validation.js';

/** Query of a partition peek. */
export class ReadMessagesQuery {
  @ApiPropertyOptional({ description: 'First offset to return.', type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER - 1, default: 0 })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER - 1)
  offset?: number;

  @ApiPropertyOptional({
    description: 'Start at the first message whose timestamp (append time, or the producer\'s explicit one) is at or after this time, in ms since the epoch. Give this or offset.',
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
  })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  timestamp?: number;

  @PageSize('Most messages to return.')
  limit?: number;
}

/** One message to produce. */
export class ProduceMessageDto {
  @ApiPropertyOptional({ description: "Decides the partition (Kafka's murmur2); absent or null for keyless messages.", nullable: true, type: String, maxLength: 65_536 })
  @Nullable()
  @IsString()
  @MaxLength(65_536)
  @IsWellFormedText('keys are stored as UTF-8 text.')
  key?: string | null;

  @ApiPropertyOptional({
    description: 'The payload, stored as sent: a string as text, anything else (object, array, number, boolean, null) as JSON. Give this or valueBase64.',
    nullable: true,
    oneOf: [{ type: 'object' }, { type: 'array', items: {} }, { type: 'string' }, { type: 'number' }, { type: 'boolean' }],
  })
  @IsWellFormedText('send the text as JSON (e.g. inside an array) or its bytes as valueBase64.')
  value?: unknown;

  @ApiPropertyOptional({ description: 'The payload as base64-encoded bytes, stored as bytes. Give this or value.', format: 'byte' })
  @Optional()
  @IsBase64()
  valueBase64?: string;

  @ApiPropertyOptional({ description: 'String to string metadata, stored as sent.', type: 'object', additionalProperties: { type: 'string' } })
  @Optional()
  @IsStringRecord()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ description: 'Explicit partition; overrides the key.', type: 'integer', minimum: 0 })
  @Optional()
  @IsInt()
  @Min(0)
  partition?: number;

  @ApiPropertyOptional({ description: 'Milliseconds since the epoch; the host clock when absent.', type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  timestamp?: number;
}

/** Body of `POST /api/v1/topics/{topic}/messages`. */
export class ProduceDto {
  @ApiProperty({ type: [ProduceMessageDto], minItems: 1, maxItems: MAX_PAGE })
  @Nested(() => ProduceMessageDto, { each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PAGE)
  messages!: ProduceMessageDto[];
}
