import 'reflect-metadata';
import { ValidationPipe, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { readConfig } from './config.js';

const config = readConfig();
const levels = (process.env.LOG_LEVELS ?? 'error,warn,log').split(',') as LogLevel[];
const app = await NestFactory.create(AppModule.register(config), { logger: levels });
app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }));
app.enableShutdownHooks();
await app.listen(config.port, '127.0.0.1');
process.send?.({ type: 'listening', port: config.port });
