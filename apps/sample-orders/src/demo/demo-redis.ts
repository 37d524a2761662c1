import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Redis the demo runs against. */
export interface DemoRedis {
  url: string;
  /** How it was found, for the banner. */
  origin: string;
  /** True when the demo started it (and removes it at exit). */
  owned: boolean;
  stop(): Promise<void>;
}

/**
 * `REDIS_URL` when set; else a Redis answering on 127.0.0.1:6379; else a private `redis-server`
 * from PATH on a free port in a temporary directory, removed at exit.
 */
export async function findRedis(env: NodeJS.ProcessEnv = process.env): Promise<DemoRedis> {
  if (env.REDIS_URL) {
    const { hostname, port } = new URL(env.REDIS_URL);
    if (!(await answersPing(hostname, Number(port || 6379)))) {
      throw new Error(`REDIS_URL is ${env.REDIS_URL}, but nothing answers PING there. Start Redis, or unset REDIS_URL to let the demo start one.`);
    }
    return { url: env.REDIS_URL, origin: 'REDIS_URL', owned: false, stop: async () => undefined };
  }
  if (await answersPing('127.0.0.1', 6379)) {
    return { url: 'redis://127.0.0.1:6379', origin: 'the Redis already running on 127.0.0.1:6379', owned: false, stop: async () => undefined };
  }
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error) {
    throw new Error(
      'No Redis found: REDIS_URL is not set, nothing answers on 127.0.0.1:6379, and there is no redis-server on the PATH.\n' +
        '  Install one (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or point REDIS_URL at a Redis 7+.',
    );
  }
  return startPrivateRedis();
}

async function startPrivateRedis(): Promise<DemoRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'brook-demo-'));
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await answersPing('127.0.0.1', port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`The private redis-server on port ${port} did not start.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    origin: `a private redis-server on port ${port} (removed at exit)`,
    owned: true,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

function answersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}
