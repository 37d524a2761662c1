import { BadRequestException, Body, Controller, Get, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Brook, Message, Producer, RecordMetadata } from '@brook/broker';
import { RequireRole } from '../auth/require-role.decorator.js';
import { BROOK } from '../brook/brook.tokens.js';
import { TopicNamePipe } from '../http/param.pipes.js';
import { PartitionParam } from '../http/partition-param.decorator.js';
import { toMessageView } from './message-view.js';
import { ProduceDto, ReadMessagesQuery, type ProduceMessageDto } from './messages.dto.js';
import { PRODUCER } from './messages.tokens.js';

/** Peek a partition and produce to a topic. */
@ApiTags('messages')
@ApiBearerAuth()
@Controller('api/v1/topics/:topic')
export class MessagesController {
  constructor(
    @Inject(BROOK) private readonly brook: Brook,
    @Inject(PRODUCER) private readonly producer: Producer,
  ) {}

  @Get('partitions/:partition/messages')
  @RequireRole('operator')
  @ApiParam({ name: 'partition', schema: { type: 'integer', minimum: 0, maximum: 4_095 }, description: 'Partition number, from 0.' })
  @ApiOperation({ summary: 'Up to limit (≤ 1,000) messages of a partition from an offset or a timestamp on, without consuming them.' })
  async read(@Param('topic', TopicNamePipe) topic: string, @PartitionParam() partition: number, @Query() query: ReadMessagesQuery) {
    const page = await this.brook.admin().readMessages({ topic, partition, offset: query.offset, timestamp: query.timestamp, limit: query.limit });
    return { topic, partition, messages: page.messages.map(toMessageView), nextOffset: page.nextOffset };
  }

  @Post('messages')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Produces messages; answers with the partition and offset of each, in order.' })
  async produce(@Param('topic', TopicNamePipe) topic: string, @Body() body: ProduceDto): Promise<{ records: RecordMetadata[] }> {
    const records = await this.producer.send({ topic, messages: body.messages.map(toMessage) });
    return { records };
  }
}

function toMessage(dto: ProduceMessageDto, index: number): Message {
  const hasValue = dto.value !== undefined;
  const hasBytes = dto.valueBase64 !== undefined;
  if (hasValue === hasBytes) {
    throw new BadRequestException(`messages.${index}: give exactly one of value (text or JSON) and valueBase64 (bytes); send "value": null for an empty value.`);
  }
  return {
    key: dto.key ?? null,
    value: hasBytes ? Buffer.from(dto.valueBase64!, 'base64') : dto.value,
    headers: dto.headers,
    partition: dto.partition,
    timestamp: dto.timestamp,
  };
}
