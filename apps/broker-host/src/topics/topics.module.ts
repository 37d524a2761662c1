import { Module } from '@nestjs/common';
import { TopicsController } from './topics.controller.js';

/** Topic administration. */
@Module({ controllers: [TopicsController] })
export class TopicsModule {}
