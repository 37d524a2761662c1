/**
 * Idle cost: one consumer owning all 32 partitions of a topic that receives nothing, default
 * options, in a process of its own. Over BENCH_IDLE_SECONDS (default 20) this measures the process's
 * CPU time (process.cpuUsage() in the child) as % of one core, the Redis commands it sends per
 * second (INFO total_commands_processed on the private server, where nothing else runs), and the
 * connections it holds (CLIENT LIST, by the connection names its clientId starts). Baseline in the
 * same run: the same kind of process running one raw blocking XREADGROUP (BLOCK 5000) over the 32
 * logs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Brook } from '@brook/broker';
import { benchRedis, report } from './support/bench-redis.js';
import type { IdleReply } from './support/idle-consumer.js';

const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
const SETTLE_MS = 2_000;
const PARTITIONS = 32;
const TARGET_CPU_PERCENT = 2;
const PREFIX = 'bench-idle';
const TOPIC = 'bench.idle';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITE_NODE = fileURLToPath(new URL('../node_modules/vite-node/dist/cli.mjs', import.meta.url));

interface IdleCost {
  cpuPercent: number;
  commandsPerSecond: number;
  connections: string[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function measure(redis: Redis, env: Record<string, string>, until: (reply: IdleReply) => boolean): Promise<IdleCost> {
  const child: ChildProcess = fork(VITE_NODE, ['--config', 'vitest.config.ts', 'bench/support/idle-consumer.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let cpu: ((usage: NodeJS.CpuUsage) => void) | undefined;
  let settled!: () => void;
  const isSettled = new Promise<void>((resolve) => (settled = resolve));
  child.on('message', (reply: IdleReply) => {
    if (reply.type === 'cpu') cpu?.(reply.usage);
    else if (until(reply)) settled();
  });
  const askCpu = () =>
    new Promise<NodeJS.CpuUsage>((resolve) => {
      cpu = resolve;
      child.send('cpu');
    });
  try {
    await Promise.race([isSettled, exited.then(() => Promise.reject(new Error('the idle consumer exited early')))]);
    // Let startup work (lease acquisition, the first blocking read) finish before measuring.
    await sleep(SETTLE_MS);
    const commandsBefore = await commandsProcessed(redis);
    const before = await askCpu();
    const startedAt = performance.now();
    await sleep(SECONDS * 1_000);
    const after = await askCpu();
    const elapsedMs = performance.now() - startedAt;
    // Two INFO calls of this process are counted as well.
    const commands = (await commandsProcessed(redis)) - commandsBefore - 2;
    const clients = (await redis.client('LIST')) as string;
    const connections = clients
      .split('\n')
      .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((name) => name.startsWith(`${env.CLIENT_ID}:`));
    const cpuMs = (after.user - before.user + after.system - before.system) / 1_000;
    return { cpuPercent: (cpuMs / elapsedMs) * 100, commandsPerSecond: (commands / elapsedMs) * 1_000, connections };
  } finally {
    child.send('stop');
    await Promise.race([exited, sleep(5_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function commandsProcessed(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1]);
}

const server = await benchRedis();
const admin = new Redis(server.url);
const brook = new Brook({ redis: server.url, clientId: 'bench-admin', prefix: PREFIX, logger: quiet });
try {
  await brook.admin().createTopic({ topic: TOPIC, partitions: PARTITIONS });
  const logs = Array.from({ length: PARTITIONS }, (_, p) => `${PREFIX}:{${TOPIC}:${p}}:log`);
  const common = { REDIS_URL: server.url, PREFIX, TOPIC };
  const raw = await measure(admin, { ...common, IDLE_MODE: 'raw', CLIENT_ID: 'idle-raw', GROUP: 'idle-raw', LOGS: logs.join(',') }, (reply) => reply.type === 'ready');
  const idle = await measure(admin, { ...common, IDLE_MODE: 'brook', CLIENT_ID: 'idle-brook', GROUP: 'idle-brook' }, (reply) => reply.type === 'owned' && reply.partitions === PARTITIONS);
  const cost = ({ cpuPercent, commandsPerSecond }: IdleCost) => `${cpuPercent.toFixed(2)} % of one core, ${commandsPerSecond.toFixed(1)} Redis commands/s`;
  const names = (connections: string[]) => `${connections.length} (${connections.sort().join(', ')})`;
  report(`idle: one consumer owning ${PARTITIONS} partitions, no traffic, default options, ${SECONDS} s measured after ${SETTLE_MS / 1_000} s settling`, [
    ['raw blocking XREADGROUP', cost(raw)],
    ['brook consumer', cost(idle)],
    ['raw connections', names(raw.connections)],
    ['brook connections', names(idle.connections)],
  ], { label: 'brook CPU', ratio: idle.cpuPercent, target: TARGET_CPU_PERCENT, unit: ' %', atMost: true });
} finally {
  await brook.close();
  admin.disconnect();
  await server.stop();
}
