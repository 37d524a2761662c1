/**
 * Scale-out over Redis Cluster shards: 1, 2 and 3 primaries (no replicas), the same topic of 12
 * partitions balanced over them (each shard leads 12 / N partitions), and one client process per
 * shard — N producer processes, then N members of one consumer group — as a deployment adds
 * clients with shards. BENCH_MESSAGES (default 120,000) JSON messages of ~200 bytes, keyed over
 * 5,000 customers, `send()` of 1,000 with `acks: 'leader'`; the group reads from the beginning with
 * a no-op handler, timed from the start signal until every message was handled (joining and the
 * first assignment included). Each configuration runs BENCH_ROUNDS times (default 3), interleaved;
 * medians are reported with the ratio to one primary.
 *
 * On a machine with fewer cores than processes the shards and clients compete for the same cores,
 * so throughput cannot grow with shards here. The bench therefore also measures what limits a
 * shard on a machine with cores to spare — the Redis CPU per message on each shard (`INFO cpu`,
 * used_cpu_user + used_cpu_sys, before and after each phase, divided by the messages that shard
 * served) and the client CPU per message — and prints the throughput they imply for N cores.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Brook } from '@brook/broker';
import { formatRate, rate, report, sampleOrder } from './support/bench-redis.js';
import { startBenchCluster, type BenchCluster } from './support/bench-cluster.js';
import { machineBusySeconds } from './support/cpu.js';
import type { ScaleClientReply } from './support/scale-client.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 120_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PARTITIONS = 12;
const SHARDS = [1, 2, 3] as const;
const TOPIC = 'bench.scale';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITE_NODE = fileURLToPath(new URL('../node_modules/vite-node/dist/cli.mjs', import.meta.url));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** One phase of one round. */
interface PhaseRun {
  ratePerSecond: number;
  /** Redis CPU µs per message, per shard (messages that shard served). */
  redisUsPerMessage: number[];
  /** Client processes' CPU µs per message, all processes together. */
  clientUsPerMessage: number;
  /** Cores' worth of CPU other processes on the machine took meanwhile (0 where /proc/stat is missing). */
  othersCores: number;
}

/** Cores other processes kept busy: the machine's busy time less what Redis and the clients used. */
function othersCores(machineSeconds: number, redisSeconds: number, clientUs: number, elapsedMs: number): number {
  if (machineSeconds === 0) return 0;
  return Math.max(0, machineSeconds - redisSeconds - clientUs / 1_000_000) / (elapsedMs / 1_000);
}
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

interface Client {
  process: ChildProcess;
  replies: ScaleClientReply[];
  next(type: ScaleClientReply['type']): Promise<ScaleClientReply>;
}

function startClient(env: Record<string, string>): Promise<Client> {
  const child = fork(VITE_NODE, ['--config', 'vitest.config.ts', 'bench/support/scale-client.ts'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  const replies: ScaleClientReply[] = [];
  const waiting: Array<{ type: string; resolve: (reply: ScaleClientReply) => void }> = [];
  child.on('message', (reply: ScaleClientReply) => {
    const at = waiting.findIndex((w) => w.type === reply.type);
    if (at >= 0) waiting.splice(at, 1)[0].resolve(reply);
    else replies.push(reply);
  });
  const client: Client = {
    process: child,
    replies,
    next: (type) => {
      const at = replies.findIndex((r) => r.type === type);
      if (at >= 0) return Promise.resolve(replies.splice(at, 1)[0]);
      return new Promise((resolve) => waiting.push({ type, resolve }));
    },
  };
  return client.next('ready').then(() => client);
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

/** Messages each shard holds: the lengths of the partition logs it serves. */
async function messagesPerShard(brook: Brook, cluster: BenchCluster, prefix: string, shards: number): Promise<number[]> {
  const counts = new Array<number>(shards).fill(0);
  for (const { partition, highOffset } of (await brook.admin().describeTopic(TOPIC)).partitions) counts[cluster.shardOf(`${prefix}:{${TOPIC}:${partition}}:log`)] += highOffset;
  return counts;
}

async function round(shards: number, roundNo: number): Promise<{ produce: PhaseRun; consume: PhaseRun }> {
  const prefix = `bench-scale-${shards}-${roundNo}`;
  const cluster = await startBenchCluster(shards, Array.from({ length: PARTITIONS }, (_, p) => `${prefix}:{${TOPIC}:${p}}:log`));
  const brook = new Brook({ redis: cluster.connection, clientId: 'bench-scale', prefix, logger: quiet });
  try {
    await brook.admin().createTopic({ topic: TOPIC, partitions: PARTITIONS });
    const connection = JSON.stringify(cluster.connection);
    const share = Math.ceil(TOTAL / shards);

    // Produce: one producer process per shard, each sending its share of keyed messages over every partition.
    const producers = await Promise.all(
      Array.from({ length: shards }, (_, i) =>
        startClient({ SCALE_MODE: 'produce', SCALE_CONNECTION: connection, PREFIX: prefix, TOPIC, COUNT: String(Math.min(share, TOTAL - i * share)), OFFSET: String(i * share) }),
      ),
    );
    let cpuBefore = await cluster.cpuSeconds();
    let machineBefore = machineBusySeconds();
    let started = performance.now();
    for (const producer of producers) producer.process.send('go');
    const produced = await Promise.all(producers.map((producer) => producer.next('done')));
    let elapsed = performance.now() - started;
    let machine = machineBusySeconds() - machineBefore;
    let cpuAfter = await cluster.cpuSeconds();
    await Promise.all(producers.map((producer) => exited(producer.process)));
    const perShard = await messagesPerShard(brook, cluster, prefix, shards);
    if (perShard.reduce((a, b) => a + b, 0) !== TOTAL) throw new Error(`produced ${perShard.reduce((a, b) => a + b, 0)} messages, expected ${TOTAL}`);
    const producersUs = sum(produced.map((reply) => (reply as { cpuMs: number }).cpuMs * 1_000));
    const produce: PhaseRun = {
      ratePerSecond: rate(TOTAL, elapsed),
      redisUsPerMessage: cpuAfter.map((after, i) => ((after - cpuBefore[i]) * 1_000_000) / perShard[i]),
      clientUsPerMessage: producersUs / TOTAL,
      othersCores: othersCores(machine, sum(cpuAfter) - sum(cpuBefore), producersUs, elapsed),
    };

    // Consume: one group member per shard, reading everything from the beginning.
    const consumers = await Promise.all(Array.from({ length: shards }, () => startClient({ SCALE_MODE: 'consume', SCALE_CONNECTION: connection, PREFIX: prefix, TOPIC, GROUP: 'scale' })));
    const handled = new Array<number>(shards).fill(0);
    let allHandled!: () => void;
    const done = new Promise<void>((resolve) => (allHandled = resolve));
    consumers.forEach((consumer, i) =>
      consumer.process.on('message', (reply: ScaleClientReply) => {
        if (reply.type !== 'handled') return;
        handled[i] = reply.count;
        if (handled.reduce((a, b) => a + b, 0) >= TOTAL) allHandled();
      }),
    );
    cpuBefore = await cluster.cpuSeconds();
    machineBefore = machineBusySeconds();
    started = performance.now();
    for (const consumer of consumers) consumer.process.send('go');
    await done;
    elapsed = performance.now() - started;
    machine = machineBusySeconds() - machineBefore;
    cpuAfter = await cluster.cpuSeconds();
    for (const consumer of consumers) consumer.process.send('stop');
    const consumerCpu = await Promise.all(consumers.map((consumer) => consumer.next('cpu')));
    await Promise.all(consumers.map((consumer) => exited(consumer.process)));
    const consumersUs = sum(consumerCpu.map((reply) => (reply as { cpuMs: number }).cpuMs * 1_000));
    const consume: PhaseRun = {
      ratePerSecond: rate(TOTAL, elapsed),
      redisUsPerMessage: cpuAfter.map((after, i) => ((after - cpuBefore[i]) * 1_000_000) / perShard[i]),
      clientUsPerMessage: consumersUs / TOTAL,
      othersCores: othersCores(machine, sum(cpuAfter) - sum(cpuBefore), consumersUs, elapsed),
    };
    return { produce, consume };
  } finally {
    await brook.close();
    await cluster.stop();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

const runs = new Map<number, Array<{ produce: PhaseRun; consume: PhaseRun }>>(SHARDS.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) for (const shards of SHARDS) runs.get(shards)!.push(await round(shards, r));

type Phase = 'produce' | 'consume';
const summary = (shards: number, phase: Phase) => {
  const list = runs.get(shards)!.map((run) => run[phase]);
  return {
    rate: median(list.map((run) => run.ratePerSecond)),
    // Per shard, the median over rounds; then the shards' mean and spread.
    redisPerShard: Array.from({ length: shards }, (_, i) => median(list.map((run) => run.redisUsPerMessage[i]))),
    client: median(list.map((run) => run.clientUsPerMessage)),
    others: median(list.map((run) => run.othersCores)),
  };
};

const us = (value: number) => `${value.toFixed(1)} µs`;
const rows: Array<[string, string]> = [];
for (const phase of ['produce', 'consume'] as const) {
  const base = summary(1, phase).rate;
  for (const shards of SHARDS) {
    const { rate: perSecond, redisPerShard, client, others } = summary(shards, phase);
    rows.push([
      `${phase}, ${shards} primar${shards === 1 ? 'y' : 'ies'}, ${shards} process${shards === 1 ? '' : 'es'}`,
      `${formatRate(perSecond)} (${(perSecond / base).toFixed(2)}× one primary); Redis CPU/msg per shard ${redisPerShard.map(us).join(', ')}; client CPU/msg ${us(client)}; other processes ${Math.round(others * 100)}% of a core`,
    ]);
  }
}

// The model: a shard is one single-threaded Redis, so with a core of its own it serves at most
// 1 / c messages per second, c its CPU per message; shards share nothing per message (every
// script touches one slot), so N shards on N cores serve N / c while the clients run elsewhere;
// on M cores that host clients and Redis both, the ceiling is M / (c + k), k the clients' CPU per message.
const modelRows: Array<[string, string]> = [];
for (const phase of ['produce', 'consume'] as const) {
  const c = mean(SHARDS.flatMap((shards) => summary(shards, phase).redisPerShard));
  const k = mean(SHARDS.map((shards) => summary(shards, phase).client));
  const spread = SHARDS.flatMap((shards) => summary(shards, phase).redisPerShard);
  modelRows.push([
    `${phase}: c (Redis CPU/msg/shard)`,
    `${us(c)} (${us(Math.min(...spread))}–${us(Math.max(...spread))} over every shard and configuration); k (client CPU/msg) ${us(k)}`,
  ]);
  modelRows.push([
    `${phase}: N shards on N cores`,
    [1, 2, 3, 4, 8, 16].map((n) => `${n}: ${formatRate(Math.round((n * 1_000_000) / c))}`).join(', ') + ' (clients on other cores)',
  ]);
  modelRows.push([`${phase}: everything on ${availableParallelism()} cores`, `${formatRate(Math.round((availableParallelism() * 1_000_000) / (c + k)))} (M / (c + k))`]);
}

report(
  `scale: median of ${ROUNDS} rounds, ${TOTAL.toLocaleString('en-US')} messages of ~${JSON.stringify(sampleOrder(1)).length} bytes, ${PARTITIONS} partitions balanced over the primaries, acks: leader, one client process per primary, ${availableParallelism()} cores`,
  rows,
);
report('scale model: throughput = N / c with N shards on N cores (one single-threaded Redis each, nothing shared per message, clients on other cores, messages even over shards)', modelRows);
