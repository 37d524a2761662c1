import { fork, type ChildProcess } from 'node:child_process';

/** A Node service the demo started. */
export interface DemoProcess {
  name: string;
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Starts a built Node entry point and waits until it reports `{ type: 'listening' }` over IPC.
 * Its output is kept and shown only if it fails.
 */
export async function startService(name: string, entry: string, env: Record<string, string>, timeoutMs = 30_000): Promise<DemoProcess> {
  const child: ChildProcess = fork(entry, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
  child.stderr?.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    child.on('message', (message: { type?: string }) => {
      if (message?.type === 'listening') {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} while starting:\n${output}`));
    });
  });
  return {
    name,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
