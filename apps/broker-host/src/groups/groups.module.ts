import { Module } from '@nestjs/common';
import { GroupOperationsController } from './group-operations.controller.js';
import { GroupsController } from './groups.controller.js';

/** Consumer group administration. */
@Module({ controllers: [GroupsController, GroupOperationsController] })
export class GroupsModule {}
