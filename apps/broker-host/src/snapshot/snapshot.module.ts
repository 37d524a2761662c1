import { Module } from '@nestjs/common';
import { BrokerSnapshotService } from './broker-snapshot.service.js';

/** The bounded, cached read of every topic and group that metrics and health share. */
@Module({ providers: [BrokerSnapshotService], exports: [BrokerSnapshotService] })
export class SnapshotModule {}
