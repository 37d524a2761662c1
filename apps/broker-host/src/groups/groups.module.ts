import { Module } from '@nestjs/common';
import { GroupsController } from './groups.controller.js';

/** Consumer group administration. */
@Module({ controllers: [GroupsController] })
export class GroupsModule {}
