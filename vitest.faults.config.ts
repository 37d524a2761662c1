import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/** The fault suite (`npm run test:faults`): scenarios that kill, freeze, roll back and partition Redis and members. */
export default defineConfig({
  ssr: { resolve: { conditions: ['@brook/source', ...defaultServerConditions] } },
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Scenarios share two cores with the redis-servers and members they start: one file at a time
    // keeps their timings meaningful.
    fileParallelism: false,
  },
});
