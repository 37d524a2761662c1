import { fork, type ChildProcess, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITE_NODE = fileURLToPath(new URL('../../node_modules/vite-node/dist/cli.mjs', import.meta.url));

/** A TypeScript entry point running in a child process. */
export interface TsProcess {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT) unless the process has exited. */
  signal(signal: NodeJS.Signals): void;
}

const started: TsProcess[] = [];

/**
 * Runs `script` (relative to the repository root) with vite-node in a child process with an IPC
 * channel and `env` on top of this process's environment. Killed after the test, thawed first in
 * case it was stopped.
 */
export function forkTs(script: string, env: Record<string, string>, stdio: StdioOptions = ['ignore', 'inherit', 'inherit', 'ipc']): TsProcess {
  const child = fork(VITE_NODE, ['--config', 'vitest.config.ts', script], { cwd: ROOT, stdio, env: { ...process.env, ...env } });
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
