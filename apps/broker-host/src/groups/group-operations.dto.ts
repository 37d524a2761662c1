import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { Optional, ToBoolean, ToInteger } from '../http/validation.js';

/** Query of `DELETE /api/v1/groups/{group}`. */
export class DeleteGroupQuery {
  @ApiPropertyOptional({ description: 'Delete even while the group has live members (they lose their partitions; stop them first or they register it again).', default: false })
  @Optional()
  @ToBoolean()
  @IsBoolean()
  force?: boolean;
}

/** Query of `GET /api/v1/groups/{group}/topics/{topic}/lag-history`. */
export class LagHistoryQuery {
  @ApiPropertyOptional({ description: 'Oldest sample time (ms since the epoch); 24 hours ago by default.', type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  from?: number;

  @ApiPropertyOptional({ description: 'Newest sample time (ms since the epoch); now by default.', type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  to?: number;

  @ApiPropertyOptional({ description: 'Most samples: the newest of the range, returned oldest first.', type: 'integer', minimum: 1, maximum: 10_000, default: 1_000 })
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(10_000)
  limit?: number;
}
