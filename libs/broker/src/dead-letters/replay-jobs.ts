import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrookContext } from '../client/context.js';
import { InvalidArgumentError } from '../errors/errors.js';
import { range } from '../topics/topic-admin.js';
import type { AuditLog } from './audit-log.js';
import { DEFAULT_MAX_REPLAYS } from './dead-letter.js';
import type { DeadLetterFilter } from './dead-letter-filter.js';
import { DeadLetterIndex } from './dead-letter-index.js';
import { DeadLetterSearch, type SearchScope } from './dead-letter-search.js';

/** A replay job as stored: what it replays, how fast, and up to which dead letter of each partition. */
interface ReplayJobSpec {
  id: string;
  topic: string;
  group: string;
  partitions: number;
  filter: DeadLetterFilter;
  maxReplays: number;
  maxPerSecond: number;
  actor: string;
  createdAt: number;
  /** Per partition, the newest dead letter when the job started ('' none): later ones are left alone. */
  upTo: string[];
  /** Matches counted when the job started (a lower bound when the count ran out of budget). */
  matched: number;
}

/** A replay job's state and progress. */
export interface ReplayJobStatus {
  id: string;
  topic: string;
  group: string;
  filter: DeadLetterFilter;
  /** `running` until every partition is done, or `cancelled`. */
  state: 'running' | 'done' | 'cancelled';
  maxPerSecond: number;
  /** The replay cap applied (0: forced, no cap). */
  maxReplays: number;
  actor: string;
  createdAt: number;
  finishedAt: number | null;
  /** Matches counted when the job started. */
  matched: number;
  replayed: number;
  /** Dead letters left parked by the replay cap. */
  parked: number;
  /** Partitions finished, of `partitions`. */
  partitionsDone: number;
  partitions: number;
}

const JOB_ID = /^[0-9a-z]{1,12}-[0-9a-f]{8}$/;
/** Dead letters one step replays at most. */
const STEP_SIZE = 100;
const COUNT_BUDGET = 1_000_000;

/**
 * Replay jobs: replays of more than a page, stored in Redis and carried out by the active
 * controller (`runPending`) at `maxPerSecond`. Each partition advances by an idempotent step that
 * replays and moves the job's cursor atomically, so a controller that dies mid-job is resumed by
 * the next one without replaying anything twice; dead letters newer than the job are left alone.
 */
export class ReplayJobs {
  private readonly search: DeadLetterSearch;
  private readonly index: DeadLetterIndex;

  constructor(
    private readonly ctx: BrookContext,
    private readonly auditLog: AuditLog,
  ) {
    this.search = new DeadLetterSearch(ctx);
    this.index = new DeadLetterIndex(ctx);
  }

  /** Stores a new job (state `running`) and records it in the audit log; the active controller runs it. */
  async start(request: { topic: string; group: string; partitions: number; filter: Readonly<DeadLetterFilter>; maxReplays: number; maxPerSecond: number; actor: string }): Promise<ReplayJobStatus> {
    const { topic, group, actor, partitions: count } = request;
    const upTo = await this.ctx.run('read dead letters', () =>
      Promise.all(range(count).map(async (p) => (await this.ctx.client.xrevrange(this.ctx.keys.deadLetters(topic, p, group), '+', '-', 'COUNT', 1))[0]?.[0] ?? '')),
    );
    const scope: SearchScope = { topic, group, partitions: count, filter: request.filter, maxReplays: request.maxReplays || DEFAULT_MAX_REPLAYS };
    const { matched } = await this.search.count(scope, COUNT_BUDGET);
    const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const spec: ReplayJobSpec = { id, topic, group, partitions: count, filter: { ...request.filter }, maxReplays: request.maxReplays, maxPerSecond: request.maxPerSecond, actor, createdAt: Date.now(), upTo, matched };
    await this.ctx.run('store the replay job', () => this.ctx.client.hset(this.ctx.keys.replayJobs(), id, JSON.stringify(spec), `${id}:state`, 'running'));
    await this.auditLog.append({ actor, action: 'replay-job', topic, group, to: 'group', selection: spec.filter, result: { count: matched, missing: [], jobId: id, state: 'running' } });
    return (await this.get(id))!;
  }

  /** A job's progress, or null. */
  async get(id: string): Promise<ReplayJobStatus | null> {
    assertJobId(id);
    const [json, state, finishedAt] = await this.ctx.run('read the replay job', () => this.ctx.client.hmget(this.ctx.keys.replayJobs(), id, `${id}:state`, `${id}:finishedAt`));
    if (json === null) return null;
    const spec = JSON.parse(json) as ReplayJobSpec;
    const progress = await this.ctx.run('read the replay job', () =>
      Promise.all(range(spec.partitions).map((p) => this.ctx.client.hmget(this.ctx.keys.replayJobProgress(spec.topic, p, id), 'replayed', 'parked', 'done'))),
    );
    return {
      id, topic: spec.topic, group: spec.group, filter: spec.filter,
      state: (state ?? 'running') as ReplayJobStatus['state'],
      maxPerSecond: spec.maxPerSecond, maxReplays: spec.maxReplays, actor: spec.actor,
      createdAt: spec.createdAt, finishedAt: finishedAt === null ? null : Number(finishedAt),
      matched: spec.matched,
      replayed: progress.reduce((sum, [replayed]) => sum + Number(replayed ?? 0), 0),
      parked: progress.reduce((sum, [, parked]) => sum + Number(parked ?? 0), 0),
      partitionsDone: progress.filter(([, , done], p) => done === '1' || spec.upTo[p] === '').length,
      partitions: spec.partitions,
    };
  }

  /** Every job, newest first. */
  async list(): Promise<ReplayJobStatus[]> {
    const fields = await this.ctx.run('read replay jobs', () => this.ctx.client.hkeys(this.ctx.keys.replayJobs()));
    const ids = fields.filter((field) => JOB_ID.test(field)).sort().reverse();
    return (await Promise.all(ids.map((id) => this.get(id)))).filter((job): job is ReplayJobStatus => job !== null);
  }

  /** Cancels a running job (it stops after its current step); null when there is no such job. */
  async cancel(id: string, actor: string): Promise<ReplayJobStatus | null> {
    const job = await this.get(id);
    if (job === null || job.state !== 'running') return job;
    await this.finish(id, 'cancelled');
    await this.auditLog.append({ actor, action: 'replay-job-end', topic: job.topic, group: job.group, to: 'group', selection: job.filter, result: { count: job.replayed, missing: [], jobId: id, state: 'cancelled' } });
    return this.get(id);
  }

  /**
   * Carries out every running job, one after the other, while `active()` holds (the caller's
   * controller lease). Returns when none is left running or `active()` turned false.
   */
  async runPending(active: () => boolean): Promise<void> {
    const fields = await this.ctx.run('read replay jobs', () => this.ctx.client.hgetall(this.ctx.keys.replayJobs()));
    const running = Object.keys(fields).filter((field) => JOB_ID.test(field) && fields[`${field}:state`] === 'running').sort();
    for (const id of running) {
      if (!active()) return;
      await this.run(JSON.parse(fields[id]) as ReplayJobSpec, active);
    }
  }

  private async run(spec: ReplayJobSpec, active: () => boolean): Promise<void> {
    const scope: SearchScope = { topic: spec.topic, group: spec.group, partitions: spec.partitions, filter: spec.filter, maxReplays: spec.maxReplays || DEFAULT_MAX_REPLAYS };
    const size = Math.max(1, Math.min(STEP_SIZE, spec.maxPerSecond));
    const started = performance.now();
    let sent = 0;
    for (let partition = 0; partition < spec.partitions; partition++) {
      if (spec.upTo[partition] === '') continue;
      const ref = { topic: spec.topic, partition, group: spec.group };
      const progressKey = this.ctx.keys.replayJobProgress(spec.topic, partition, spec.id);
      for (;;) {
        if (!active() || (await this.state(spec.id)) !== 'running') return;
        const [cursor, done] = await this.ctx.run('read the replay job', () => this.ctx.client.hmget(progressKey, 'cursor', 'done'));
        if (done === '1') break;
        const step = await this.search.step(scope, partition, cursor || undefined, spec.upTo[partition], size);
        const result = await this.index.replayJobStep(ref, {
          jobId: spec.id,
          expected: cursor ?? '',
          next: step.last || (cursor ?? ''),
          done: step.done || step.last === '',
          maxReplays: spec.maxReplays,
          ids: step.matches.map(([id]) => id),
        });
        if (result.parked.length > 0) {
          await this.auditLog.append({
            actor: spec.actor, action: 'replay-job', topic: spec.topic, group: spec.group, to: 'group', selection: spec.filter,
            result: { count: 0, missing: [], parked: result.parked.map((id) => `${partition}-${id}`), jobId: spec.id, state: 'parked' },
          });
        }
        sent += result.replayed.length;
        // The pace: never ahead of maxPerSecond since the job started on this host.
        const ahead = (sent * 1_000) / spec.maxPerSecond - (performance.now() - started);
        if (ahead > 0) await sleep(ahead);
      }
    }
    if ((await this.state(spec.id)) !== 'running') return;
    await this.finish(spec.id, 'done');
    const status = await this.get(spec.id);
    await this.auditLog.append({
      actor: spec.actor, action: 'replay-job-end', topic: spec.topic, group: spec.group, to: 'group', selection: spec.filter,
      result: { count: status?.replayed ?? 0, missing: [], jobId: spec.id, state: 'done' },
    });
  }

  private state(id: string): Promise<string | null> {
    return this.ctx.run('read the replay job', () => this.ctx.client.hget(this.ctx.keys.replayJobs(), `${id}:state`));
  }

  private async finish(id: string, state: 'done' | 'cancelled'): Promise<void> {
    await this.ctx.run('update the replay job', () => this.ctx.client.hset(this.ctx.keys.replayJobs(), `${id}:state`, state, `${id}:finishedAt`, Date.now()));
  }
}

/** Throws unless `id` looks like a replay job id. */
export function assertJobId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !JOB_ID.test(id)) {
    throw new InvalidArgumentError(`Invalid replay job id ${JSON.stringify(id)}: pass the id a replay answered with, e.g. 'lq3x8k2a-1f2e3d4c'.`);
  }
}


