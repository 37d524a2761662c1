import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { ADMIN_TOKENS } from './host.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITE_NODE = fileURLToPath(new URL('../../node_modules/vite-node/dist/cli.mjs', import.meta.url));

/** A broker host running `apps/broker-host/src/main.ts` in a child process, as operators run it. */
export interface HostProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed. */
  output: string[];
  exited: Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

const started: HostProcess[] = [];

/** Starts a host configured through `env` (on top of test defaults) and waits until it listens. */
export async function startHostProcess(env: Record<string, string>): Promise<HostProcess> {
  const child = fork(VITE_NODE, ['--config', 'vitest.config.ts', 'apps/broker-host/src/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NO_COLOR: '1', PORT: '0', HOST: '127.0.0.1', BROOK_ADMIN_TOKENS: ADMIN_TOKENS, BROOK_LOG_LEVEL: 'log', ...env },
  });
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = new Promise<string>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      const match = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output.join(''));
      if (match) resolve(match[1]);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    void exited.then(() => reject(new Error(`host exited before listening:\n${output.join('')}`)));
  });
  const host: HostProcess = {
    url: '',
    child,
    output,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  started.push(host);
  host.url = await url;
  return host;
}

afterEach(async () => {
  for (const host of started.splice(0)) {
    host.kill('SIGKILL');
    await host.exited;
  }
});
