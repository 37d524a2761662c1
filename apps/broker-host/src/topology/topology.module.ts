import { Module } from '@nestjs/common';
import { ClusterController } from './cluster.controller.js';

/** The Redis deployment as the partitions see it. */
@Module({ controllers: [ClusterController] })
export class TopologyModule {}
