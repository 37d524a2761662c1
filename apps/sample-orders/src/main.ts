import type { LogLevel } from '@nestjs/common';
import { readConfig } from './config.js';
import { startSampleApp } from './sample-app.js';

const { app, url } = await startSampleApp(readConfig(), (process.env.LOG_LEVELS ?? 'error,warn,log').split(',') as LogLevel[]);
app.enableShutdownHooks();
// A parent process (the demo) learns that the service is ready.
process.send?.({ type: 'listening', url });
