import { Module } from '@nestjs/common';
import { SessionController } from './session.controller.js';

/** What the console needs beyond the admin API: the session endpoint. Its assets are served by `serveConsole`. */
@Module({ controllers: [SessionController] })
export class ConsoleModule {}
