import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';

/** The `@opentelemetry/api` module, as the application installed it. */
export type OtelApi = typeof Api;

const require = createRequire(import.meta.url);
let loaded: OtelApi | null | undefined;

/**
 * The application's `@opentelemetry/api`, or `undefined` when it is not installed. It is an
 * optional peer dependency, so it is required on first use rather than imported: Brook loads and
 * runs without it. Every copy of the API shares one registry (a global symbol), so the SDK the
 * application registered is found whichever copy resolves here.
 */
export function loadOtelApi(): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = require('@opentelemetry/api') as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** Brook's version, naming its tracer. */
export function brookVersion(): string {
  // dist/tracing and src/tracing both sit two levels under the package root.
  return (require('../../package.json') as { version: string }).version;
}
