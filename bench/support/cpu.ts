import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

/** CPU time spent during a piece of work, as fractions of one core over its wall-clock time. */
export interface CpuShare {
  node: number;
  redis: number;
  /** Every other process on the machine, and time the hypervisor took (from /proc/stat; 0 where there is none). */
  others: number;
}

/** CPU seconds the whole machine has spent busy (Linux; 0 elsewhere). */
export function machineBusySeconds(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = ticks;
    return (user + nice + system + irq + softirq + steal) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

/**
 * CPU seconds used by this process and by the child processes it has reaped (Linux's
 * /proc/self/stat; this process alone elsewhere), so a consumer forked for a variant counts too.
 */
function nodeCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const [utime, stime, cutime, cstime] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(11, 15).map(Number);
    return (utime + stime + cutime + cstime) / 100; // USER_HZ
  } catch {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1_000_000;
  }
}

/** Seconds of CPU the Redis server has used (main thread and background threads). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/**
 * Records, per variant, how busy this process, the Redis server and the rest of the machine were
 * while it ran (in % of one core), so a figure below target can be read as "this process saturated
 * a core", "Redis did" or "something else took the CPU". On a 2-core machine all of them compete
 * for the same cores. "node" counts child processes a variant forked and waited for.
 */
export class CpuLog {
  private readonly samples = new Map<string, CpuShare[]>();
  private readonly redis: Redis;

  constructor(url: string) {
    this.redis = new Redis(url, { connectionName: 'bench-cpu' });
  }

  /** Runs `work` and records the CPU this process and Redis used meanwhile under `variant`. */
  async measure<T>(variant: string, work: () => Promise<T>): Promise<T> {
    const redisBefore = await redisCpuSeconds(this.redis);
    const machineBefore = machineBusySeconds();
    const nodeBefore = nodeCpuSeconds();
    const started = performance.now();
    const result = await work();
    const nodeUs = (nodeCpuSeconds() - nodeBefore) * 1_000_000;
    const machine = machineBusySeconds() - machineBefore;
    const elapsedUs = (performance.now() - started) * 1_000;
    const redisUs = ((await redisCpuSeconds(this.redis)) - redisBefore) * 1_000_000;
    const othersUs = machine === 0 ? 0 : Math.max(0, machine * 1_000_000 - nodeUs - redisUs);
    let list = this.samples.get(variant);
    if (list === undefined) this.samples.set(variant, (list = []));
    list.push({ node: nodeUs / elapsedUs, redis: redisUs / elapsedUs, others: othersUs / elapsedUs });
    return result;
  }

  /** The median share of each side over the recorded runs of `variant`. */
  median(variant: string): CpuShare | undefined {
    const list = this.samples.get(variant);
    if (list === undefined || list.length === 0) return undefined;
    const mid = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    return { node: mid(list.map((s) => s.node)), redis: mid(list.map((s) => s.redis)), others: mid(list.map((s) => s.others)) };
  }

  /** `CPU node 97%, redis 41%, others 3%` (each in % of one core), or '' when nothing was recorded. */
  format(variant: string): string {
    const share = this.median(variant);
    if (share === undefined) return '';
    const pct = (value: number) => `${Math.round(value * 100)}%`;
    return `CPU node ${pct(share.node)}, redis ${pct(share.redis)}, others ${pct(share.others)}`;
  }

  /**
   * A warning when other processes took more than `threshold` of a core during some run (median
   * per variant): the figures then measure the machine's contention as much as the code.
   */
  contentionNote(threshold = 0.2): string | undefined {
    const worst = Math.max(0, ...[...this.samples.keys()].map((variant) => this.median(variant)!.others));
    if (worst <= threshold) return undefined;
    return `note: other processes on this machine took up to ${Math.round(worst * 100)}% of a core during the runs; the figures are noisy.`;
  }

  close(): void {
    this.redis.disconnect();
  }
}
