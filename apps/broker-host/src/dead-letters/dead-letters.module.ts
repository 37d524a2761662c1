import { Module } from '@nestjs/common';
import { DeadLettersController } from './dead-letters.controller.js';

/** Dead-letter operations and their audit log. */
@Module({ controllers: [DeadLettersController] })
export class DeadLettersModule {}
