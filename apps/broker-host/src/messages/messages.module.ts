import { Module } from '@nestjs/common';
import type { Brook } from '@brook/broker';
import { BROOK } from '../brook/brook.tokens.js';
import { MessagesController } from './messages.controller.js';
import { PRODUCER } from './messages.tokens.js';

/** Peeking and producing messages, with the host's one producer. */
@Module({
  controllers: [MessagesController],
  providers: [{ provide: PRODUCER, inject: [BROOK], useFactory: (brook: Brook) => brook.producer() }],
})
export class MessagesModule {}
