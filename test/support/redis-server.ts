import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options of a private redis-server. */
export interface RedisServerOptions {
  /** Start as a replica of this server. */
  replicaOf?: RedisServer;
  /** Extra `--name value` arguments. */
  args?: string[];
  /** Keep a fixed port (restarts reuse it). */
  port?: number;
  /** Contents of a config file passed before the arguments; Sentinel needs one it can rewrite. */
  config?: string;
}

/**
 * A private `redis-server` on a free port in its own temporary directory, never the machine's
 * 6379. Tests kill, pause and restart it to inject faults.
 */
export class RedisServer {
  private process: ChildProcess | undefined;
  private readonly dir: string;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'brook-redis-'));
  }

  /** Starts a server on a free port and waits until it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServer(options.port ?? (await freePort()), options);
      try {
        await server.launch();
        return server;
      } catch (error) {
        await server.stop();
        // Another process may have taken the port between probing and binding.
        if (attempt >= 5 || options.port !== undefined) throw error;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  private async launch(): Promise<void> {
    const configFile = join(this.dir, 'redis.conf');
    // A restart keeps the file as the server rewrote it (Sentinel records failovers there).
    if (this.options.config !== undefined && !existsSync(configFile)) writeFileSync(configFile, this.options.config);
    const args = [
      ...(this.options.config !== undefined ? [configFile] : []),
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--dir', this.dir,
      '--loglevel', 'warning',
      '--repl-diskless-sync-delay', '0',
      '--logfile', join(this.dir, 'redis.log'),
      ...(this.options.replicaOf ? ['--replicaof', '127.0.0.1', String(this.options.replicaOf.port)] : []),
      ...(this.options.args ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.process = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server on port ${this.port} exited with ${code}; see ${this.dir}/redis.log`)));
    });
    failed.catch(() => undefined);
    await Promise.race([waitForPing(this.port, 10_000), failed]);
  }

  /** Sends a signal: SIGKILL to crash it, SIGSTOP/SIGCONT to freeze and thaw it. */
  signal(signal: NodeJS.Signals): void {
    this.process?.kill(signal);
  }

  /** Kills the server (SIGKILL) and waits for it to exit; data is lost (no persistence). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.process!.kill('SIGKILL');
    await this.exited;
  }

  /** Stops the server the way an operator does (`SHUTDOWN SAVE`): its data is kept for `restart()`. */
  async shutdown(): Promise<void> {
    if (!this.running) return;
    // The server closes the connection instead of answering.
    await this.command('SHUTDOWN', 'SAVE').catch(() => undefined);
    await this.exited;
  }

  /** Starts it again on the same port after `kill()` or `shutdown()`. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    if (this.running) {
      this.process!.kill('SIGCONT');
      this.process!.kill('SIGKILL');
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs one command through redis-cli-free RESP and returns the raw reply text. */
  async command(...args: string[]): Promise<string> {
    return sendCommand(this.port, args);
  }
}

/** Finds a port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function sendCommand(port: number, args: string[], timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from 127.0.0.1:${port}`));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.connect(port, '127.0.0.1', () => {
      socket.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
  });
}

async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await sendCommand(port, ['PING'], 500)).startsWith('+PONG')) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
