import { Module } from '@nestjs/common';
import { MaintenanceModule } from '../maintenance/maintenance.module.js';
import { SnapshotModule } from '../snapshot/snapshot.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** `/metrics` in Prometheus format. */
@Module({ imports: [SnapshotModule, MaintenanceModule], controllers: [MetricsController], providers: [MetricsService] })
export class MetricsModule {}
