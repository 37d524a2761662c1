import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module.js';
import { applyApiContract, BEARER_SCHEME } from './openapi/api-contract.js';
import { HOST_LOG_LEVELS, resolveHostOptions, type HostOptions, type ResolvedHostOptions } from './config/host-options.js';
import { HostHttpAdapter } from './http/http-server.js';
import { StrictValidationPipe } from './http/validation.pipe.js';
import { serveConsole } from './console/serve-console.js';

/** A configured broker host, not yet listening. */
export interface BrokerHost {
  app: NestExpressApplication;
  options: ResolvedHostOptions;
}

/**
 * Builds the host application: server timeouts, validation, error mapping, OpenAPI at `/docs`.
 * Bodies are read by `RequestBodyInterceptor`, after authentication and the rate limit. Tests build
 * it this way too and listen on port 0.
 */
export async function createBrokerHost(input: HostOptions = {}): Promise<BrokerHost> {
  const options = resolveHostOptions(input);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), new HostHttpAdapter(options), {
    // NestJS prints debug logs unless told otherwise.
    logger: HOST_LOG_LEVELS.slice(HOST_LOG_LEVELS.indexOf(options.logLevel)),
    bodyParser: false,
    abortOnError: false,
  });
  app.useGlobalPipes(new StrictValidationPipe());
  app.disable('x-powered-by');
  serveConsole(app);
  // The client address (rate limits, logs) from X-Forwarded-For only through the configured proxies.
  app.set('trust proxy', Array.isArray(options.trustProxy) ? [...options.trustProxy] : options.trustProxy);

  const document = applyApiContract(
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Brook broker host')
        .setDescription('Admin API of Brook: topics, groups, messages, dead letters. Every /api/v1 endpoint needs a bearer token from BROOK_ADMIN_TOKENS (opaque, not a JWT).')
        .setVersion('1')
        .addBearerAuth(BEARER_SCHEME)
        .build(),
    ),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return { app, options };
}

/** Builds the host and listens on the configured port; `url` is where it answers. */
export async function startBrokerHost(input: HostOptions = {}): Promise<BrokerHost & { url: string }> {
  const host = await createBrokerHost(input);
  host.app.enableShutdownHooks();
  await host.app.listen(host.options.port, host.options.host);
  const address = host.app.getHttpServer().address();
  const port = typeof address === 'object' && address !== null ? address.port : host.options.port;
  const shown = host.options.host === '0.0.0.0' || host.options.host === '::' ? '127.0.0.1' : host.options.host;
  return { ...host, url: `http://${shown}:${port}` };
}

