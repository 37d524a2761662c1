import { Module } from '@nestjs/common';
import { BrokerSnapshotService } from './broker-snapshot.service.js';

@Module({ providers: [BrokerSnapshotService], exports: [BrokerSnapshotService] })
export class SnapshotModule {}
