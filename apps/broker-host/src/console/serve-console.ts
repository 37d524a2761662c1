import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';

/** Where `npm run build` puts the console's assets: `apps/broker-host/dist/ui` (beside the compiled host, whose `dist/console` holds this module), from src/ and dist/ alike. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../dist/ui', import.meta.url));

/**
 * Security headers on every answer (the console's strict: only its own scripts, styles and API), and
 * the console's static assets at `/console/`. The assets hold no data: everything the console shows
 * comes from the API with the signed-in token.
 */
export function serveConsole(app: NestExpressApplication): void {
  app.use(
    '/console',
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  // The API answers JSON only: no framing, no sniffing, no referrer; Swagger UI at /docs keeps its own needs.
  app.use('/api', helmet({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } } }));
  app.use('/console', (request: { path: string; originalUrl: string }, response: { redirect(status: number, url: string): void }, next: () => void) => {
    // `/console` → `/console/`, so the page's relative asset URLs resolve under it.
    if (request.originalUrl === '/console') return response.redirect(301, '/console/');
    next();
  });
  if (existsSync(CONSOLE_DIR)) {
    app.useStaticAssets(CONSOLE_DIR, { prefix: '/console/', index: 'index.html', fallthrough: true, maxAge: 0 });
  } else {
    app.use('/console', (_request: unknown, response: { status(code: number): { type(t: string): { send(body: string): void } } }) => {
      response.status(503).type('text/plain').send('The console is not built: run npm run build.');
    });
  }
}
