import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis-server.js';
import { waitFor } from './brook.js';

/** Where Debian's `prometheus` package puts the server. */
export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

/** A real Prometheus server on a free loopback port, with its own scratch storage. */
export interface PrometheusServer {
  url: string;
  /** Everything it printed. */
  output: string[];
  /** Runs an instant query; fails on a PromQL error. */
  query(expr: string): Promise<unknown[]>;
  /** Calls an HTTP API path such as `/api/v1/targets` and returns its `data`. */
  api<T = any>(path: string): Promise<T>;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `target` (host:port) every 500 ms with `token` and evaluating `ruleFiles`. */
export async function startPrometheus({ target, token, ruleFiles }: { target: string; token: string; ruleFiles: string[] }): Promise<PrometheusServer> {
  if (!existsSync(PROMETHEUS_BINARY)) {
    throw new Error(`${PROMETHEUS_BINARY} is missing: install Debian's prometheus package (apt-get install -y prometheus), as .ci/run does.`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'brook-prometheus-'));
  const config = [
    'global:',
    '  scrape_interval: 500ms',
    '  evaluation_interval: 500ms',
    'rule_files:',
    ...ruleFiles.map((file) => `  - ${JSON.stringify(file)}`),
    'scrape_configs:',
    '  - job_name: brook',
    '    authorization:',
    '      type: Bearer',
    `      credentials: ${JSON.stringify(token)}`,
    '    static_configs:',
    `      - targets: [${JSON.stringify(target)}]`,
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const child: ChildProcess = spawn(
    PROMETHEUS_BINARY,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(url + path);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, { timeoutMs: 30_000, intervalMs: 100, message: `Prometheus to be ready (output: ${output.join('')})` });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    output,
    api,
    query: async (expr) => (await api<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    stop,
  };
}
