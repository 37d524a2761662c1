import type { BrookContext } from '../client/context.js';
import { BrokerError } from '../errors/errors.js';
import { SCRIPTS } from '../redis/script-table.js';
import type { DeadLetterRef, Retag } from '../redis/specs/dead-letters.js';

/** Times a removal is repeated when new tags keep appearing meanwhile. */
const RETAG_ATTEMPTS = 5;

/**
 * Runs the scripts that take dead letters out (replay, purge, retention) with the posting key of
 * every tag of the partition's index: they remove each dead letter from its postings in the same
 * step. A tag that appeared after the tags were read is answered with `retag`; the step changed
 * nothing and is repeated with the fresh list.
 */
export class DeadLetterIndex {
  constructor(private readonly ctx: BrookContext) {}

  /** The tags the partition's dead letters carry now. */
  async tags(ref: DeadLetterRef): Promise<string[]> {
    return this.ctx.run('read the dead-letter index', () => this.ctx.client.hkeys(this.ctx.keys.deadLetterTags(ref.topic, ref.partition, ref.group)));
  }

  /** Replays dead letters to the group up to the replay cap (0: none). */
  replay(ref: DeadLetterRef, ids: readonly string[], maxReplays: number): Promise<{ replayed: string[]; parked: string[] }> {
    return this.withTags(ref, (tags) => this.ctx.call(SCRIPTS.replayDeadLetters, { ...ref, tags, ids, maxReplays }));
  }

  /** Deletes dead letters by ID; answers the IDs that existed. */
  async remove(ref: DeadLetterRef, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return (await this.withTags(ref, (tags) => this.ctx.call(SCRIPTS.removeDeadLetters, { ...ref, tags, mode: 'ids', ids }))).removed;
  }

  /** Deletes the oldest dead letters past `maxAgeMs` or beyond `maxCount`, at most `maxEntries` per call. */
  trim(ref: DeadLetterRef, retention: { maxAgeMs: number; maxCount: number; maxEntries: number }): Promise<{ removed: string[]; more: boolean }> {
    return this.withTags(ref, (tags) => this.ctx.call(SCRIPTS.removeDeadLetters, { ...ref, tags, mode: 'retention', ...retention }));
  }

  /** One step of a replay job on a partition; `stale` when the job's cursor is no longer `expected`. */
  async replayJobStep(
    ref: DeadLetterRef,
    step: { jobId: string; expected: string; next: string; done: boolean; maxReplays: number; ids: readonly string[] },
  ): Promise<{ stale: boolean; replayed: string[]; parked: string[] }> {
    const reply = await this.withTags(ref, async (tags) => {
      const result = await this.ctx.call(SCRIPTS.replayJobStep, { ...ref, tags, ...step });
      return result.status === 'stale' ? { status: 'ok' as const, stale: true, replayed: [], parked: [] } : result.status === 'ok' ? { ...result, stale: false } : result;
    });
    return { stale: reply.stale, replayed: reply.replayed, parked: reply.parked };
  }

  private async withTags<R>(ref: DeadLetterRef, run: (tags: string[]) => Promise<({ status: 'ok' } & R) | Retag>): Promise<R> {
    for (let attempt = 0; attempt < RETAG_ATTEMPTS; attempt++) {
      const reply = await run(await this.tags(ref));
      if (reply.status === 'ok') return reply;
    }
    throw new BrokerError('INTERNAL', `The dead-letter index of '${ref.group}' on partition ${ref.partition} of '${ref.topic}' kept changing; try again.`, { retriable: true });
  }
}
