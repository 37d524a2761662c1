import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SnapshotModule } from '../snapshot/snapshot.module.js';
import { HealthController } from './health.controller.js';

/** `/health` for load balancers and orchestrators. */
@Module({ imports: [TerminusModule.forRoot({ logger: false }), SnapshotModule], controllers: [HealthController] })
export class HealthModule {}
