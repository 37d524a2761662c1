import 'reflect-metadata';
import { ValidationPipe, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import type { SampleConfig } from './config.js';

/** Builds the sample service and listens on `config.port` (0: a free port); `url` is where it answers. */
export async function startSampleApp(config: SampleConfig, logLevels: LogLevel[] = ['error', 'warn', 'log']): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(AppModule.register(config), { logger: logLevels });
  app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));
  await app.listen(config.port, '127.0.0.1');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  return { app, url: `http://127.0.0.1:${port}` };
}
