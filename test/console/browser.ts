import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONSOLE_SRC = join(ROOT, 'apps/broker-host/console');
const CONSOLE_DIST = join(ROOT, 'apps/broker-host/dist/ui/index.html');

/** Debian's chromium (`.ci/run` installs it); playwright-core drives it, no browser download. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

/** Builds the console when its sources are newer than its bundle, as `npm run build` does. */
export function ensureConsoleBuilt(): void {
  if (existsSync(CONSOLE_DIST) && statSync(CONSOLE_DIST).mtimeMs >= newest(join(CONSOLE_SRC, 'src'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', join(CONSOLE_SRC, 'vite.config.ts')], { cwd: ROOT, stdio: 'inherit' });
}

let browser: Browser | undefined;
/** One headless Chromium for the file, started on first use (playwright gives it a fresh temporary profile). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  return browser;
}

/** A page at 1280×800 that records every console error and uncaught exception. */
export async function openPage(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
  const context = await (await launchBrowser()).newContext({ viewport: { width: 1280, height: 800 }, colorScheme: options.colorScheme ?? 'light' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return { page, context, errors };
}

afterAll(async () => {
  await browser?.close();
  browser = undefined;
});
