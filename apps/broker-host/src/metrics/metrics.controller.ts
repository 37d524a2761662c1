import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { PublicIf, RequireRole } from '../auth/require-role.decorator.js';
import { MetricsService } from './metrics.service.js';

/** `GET /metrics`. */
@ApiTags('operations')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @RequireRole('viewer')
  @PublicIf('metricsPublic')
  @ApiProduces('text/plain')
  @ApiOperation({ summary: 'Prometheus metrics, names prefixed brook_. Needs a viewer token unless BROOK_METRICS_PUBLIC=true.' })
  async scrape(@Res({ passthrough: true }) response: Response): Promise<string> {
    const { contentType, text } = await this.metrics.render();
    response.setHeader('Content-Type', contentType);
    return text;
  }
}
