import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The console: a static bundle the broker host serves at /console/ (npm run build writes it to apps/broker-host/dist/ui). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
});
