import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'apps/cli/bin/brook.js');
const DIST = join(ROOT, 'apps/cli/dist/main.js');

/** What a finished `brook` run gave. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's lines parsed as JSON (for --json). */
  json<T = any>(): T[];
}

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * Builds the command line when its sources are newer than its build (the tests run the binary users
 * run: `bin/brook.js` → `dist/`), as `npm run build` would.
 */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(DIST).mtimeMs;
  } catch {}
  const sources = Math.max(newest(join(ROOT, 'apps/cli/src')), newest(join(ROOT, 'libs/broker/src')));
  if (built >= sources) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'apps/cli/tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
}

const running = new Set<ChildProcess>();

/** Starts `brook <args>` as a user would; `env` on top of a clean environment (no REDIS_URL, BROOK_HOST, BROOK_TOKEN). */
export function startCli(args: string[], { env = {}, stdin }: { env?: Record<string, string>; stdin?: string } = {}) {
  const base = { ...process.env };
  for (const name of ['REDIS_URL', 'BROOK_HOST', 'BROOK_TOKEN', 'BROOK_PREFIX']) delete base[name];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...base, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  if (stdin !== undefined) child.stdin!.end(stdin);
  const done = new Promise<CliResult>((resolve) =>
    child.once('close', (code) => {
      running.delete(child);
      resolve({
        code,
        stdout,
        stderr,
        json: () =>
          stdout
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) => JSON.parse(line)),
      });
    }),
  );
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** Runs `brook <args>` to its end. */
export function cli(args: string[], options?: { env?: Record<string, string>; stdin?: string }): Promise<CliResult> {
  const started = startCli(args, options);
  if (options?.stdin === undefined) started.child.stdin!.end();
  return started.done;
}

afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});
