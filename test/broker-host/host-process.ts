import type { ChildProcess } from 'node:child_process';
import { forkTs } from '../support/child-process.js';
import { ADMIN_TOKENS } from './host.js';

/** A broker host running `apps/broker-host/src/main.ts` in a child process, as operators run it. */
export interface HostProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed. */
  output: string[];
  exited: Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts a host configured through `env` (on top of test defaults) and waits until it listens. */
export async function startHostProcess(env: Record<string, string>): Promise<HostProcess> {
  const { child, exited, signal } = forkTs(
    'apps/broker-host/src/main.ts',
    { NO_COLOR: '1', PORT: '0', HOST: '127.0.0.1', BROOK_ADMIN_TOKENS: ADMIN_TOKENS, BROOK_LOG_LEVEL: 'log', ...env },
    ['ignore', 'pipe', 'pipe', 'ipc'],
  );
  const output: string[] = [];
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
  return { url: await url, child, output, exited, kill: signal };
}
