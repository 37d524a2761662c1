import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests import the libraries from source through the "@brook/source" export condition (a name no user toolchain sets: the published tarballs hold no sources).
  // Vitest hands these conditions to Node as well (--conditions). Vite's 'module' is left out: it
  // picks bundler-only builds (@opentelemetry/api's ESM with extension-less imports) Node cannot load.
  ssr: { resolve: { conditions: ['@brook/source', ...defaultServerConditions.filter((condition) => condition !== 'module')] } },
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite runs on its own: npm run test:faults.
    exclude: ['test/faults/**', '**/node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
