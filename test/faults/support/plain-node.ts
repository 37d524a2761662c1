/**
 * Runs a TypeScript entry point as plain Node, bundled with the libraries' sources, for scenarios
 * that measure a process's memory: under vite-node a child starts at about 210 MB of resident
 * memory of its own, which would hide what Brook costs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';
import { afterAll, afterEach } from 'vitest';
import type { TsProcess } from '../../support/child-process.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const bundles = new Map<string, Promise<string>>();
const dirs: string[] = [];
const started: TsProcess[] = [];

/**
 * Bundles `script` (relative to the repository root) into one ESM file, once per test file, with
 * the Lua scripts next to it where the library looks for them.
 */
function bundle(script: string): Promise<string> {
  let built = bundles.get(script);
  if (built === undefined) {
    built = (async () => {
      const dir = mkdtempSync(join(tmpdir(), 'brook-plain-'));
      dirs.push(dir);
      await build({
        input: join(ROOT, script),
        platform: 'node',
        // The libraries' TypeScript sources, as vitest.config.ts resolves them.
        resolve: { conditionNames: ['source', 'import', 'node', 'default'] },
        output: { dir, format: 'esm', codeSplitting: false, entryFileNames: '[name].mjs' },
        logLevel: 'warn',
      });
      cpSync(join(ROOT, 'libs/broker/src/redis/scripts'), join(dir, 'scripts'), { recursive: true });
      return join(dir, script.split('/').pop()!.replace(/\.ts$/, '.mjs'));
    })();
    bundles.set(script, built);
  }
  return built;
}

/** Like `forkTs`, with plain Node running a bundle of `script`; killed after the test. */
export async function forkPlain(script: string, env: Record<string, string>): Promise<TsProcess> {
  const child: ChildProcess = fork(await bundle(script), [], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running: TsProcess = {
    child,
    exited,
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  started.push(running);
  return running;
}

afterEach(async () => {
  for (const running of started.splice(0)) {
    running.signal('SIGCONT');
    running.signal('SIGKILL');
    await running.exited;
  }
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  bundles.clear();
});
