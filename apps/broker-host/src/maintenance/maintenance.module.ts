import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { LagSamplerService } from './lag-sampler.service.js';
import { MaintenanceController } from './maintenance.controller.js';
import { DeadLetterMaintenance } from './dead-letter-maintenance.service.js';
import { MaintenanceService } from './maintenance.service.js';

/** The maintenance controller and its status endpoint. */
@Module({
  imports: [ScheduleModule.forRoot()],
  controllers: [MaintenanceController],
  providers: [MaintenanceService, LagSamplerService, DeadLetterMaintenance],
  exports: [MaintenanceService, LagSamplerService, DeadLetterMaintenance],
})
export class MaintenanceModule {}
