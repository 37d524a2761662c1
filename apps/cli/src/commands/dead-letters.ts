import { SingleBar } from 'cli-progress';
import type { DeadLetter, DeadLetterFilter, DeadLetterReason, ReplayJobStatus, ReplayPreview } from '@brook/broker';
import type { Command } from 'commander';
import { CommandError, EXIT } from '../exit-codes.js';
import { formatValue, tableLines, type Output } from '../output.js';
import { parse, type Runner } from '../program.js';
import { setTimeout as delay } from 'node:timers/promises';
import type { Operations } from '../operations.js';

interface Scope {
  topic: string;
  group: string;
}

interface FilterOptions {
  partition?: number;
  reason?: string;
  errorName?: string;
  errorText?: string;
  key?: string;
  fromTime?: number;
  toTime?: number;
  fromOffset?: number;
  toOffset?: number;
  parked?: boolean;
}

interface SelectionOptions extends Scope, FilterOptions {
  id: string[];
  all: boolean;
  dryRun: boolean;
}

const REASONS = ['handler-error', 'non-retriable', 'undecodable', 'validation', 'timeout', 'operator'];

/** The search filters every dead-letter command takes. */
function filterOptions(command: Command): Command {
  return command
    .option('-p, --partition <n>', 'only this partition', parse.count('--partition', 0, 4_095))
    .option('-r, --reason <reason>', `only this reason: ${REASONS.join(', ')}`)
    .option('--error-name <name>', "only errors of this name (e.g. 'PaymentDeclinedError')")
    .option('--error-text <text>', 'only errors whose message contains this text (any case)')
    .option('-k, --key <key>', 'only messages with this key')
    .option('--from-time <time>', 'failed at or after this time (ISO or epoch ms)', parse.time)
    .option('--to-time <time>', 'failed at or before this time (ISO or epoch ms)', parse.time)
    .option('--from-offset <n>', 'original offset at least this (with --partition)', parse.count('--from-offset'))
    .option('--to-offset <n>', 'original offset at most this (with --partition)', parse.count('--to-offset'))
    .option('--parked', 'only messages the replay cap parked');
}

/** The filter as the library and the API take it; undefined when nothing narrows it. */
function toFilter(options: FilterOptions): DeadLetterFilter | undefined {
  const filter: DeadLetterFilter = {
    partition: options.partition,
    reason: options.reason as DeadLetterReason | undefined,
    errorName: options.errorName,
    errorMessage: options.errorText,
    key: options.key,
    from: options.fromTime,
    to: options.toTime,
    fromOffset: options.fromOffset,
    toOffset: options.toOffset,
    parked: options.parked,
  };
  const given = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined));
  return Object.keys(given).length === 0 ? undefined : (given as DeadLetterFilter);
}

export function deadLetterCommands(program: Command, run: Runner): void {
  const dlt = program.command('dlt').description("a group's dead letters: list, show, count, replay, purge, audit");
  const scoped = (command: Command) =>
    command.requiredOption('-t, --topic <topic>', 'the topic the messages came from').requiredOption('-g, --group <group>', 'the group that failed them');

  filterOptions(scoped(dlt.command('list')))
    .description("a group's dead letters on a topic, by partition then age, searched by the filters (indexed: no scan)")
    .option('-l, --limit <n>', 'page size', parse.count('--limit', 1, 1_000), 100)
    .option('--cursor <cursor>', 'the next page (printed after a page that has more)')
    .option('--all-pages', 'every page, not only the first', false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ brook dlt list -t orders.created -g payments\n  $ brook dlt list -t orders.created -g payments --reason non-retriable --all-pages --json\n  $ brook dlt list -t orders.created -g payments --error-text "card declined" --from-time 2026-12-01T08:00:00Z',
    )
    .action((options: Scope & FilterOptions & { limit: number; cursor?: string; allPages: boolean }, command: Command) =>
      run(async ({ ops, out }) => {
        let cursor = options.cursor;
        const rows: DeadLetter[] = [];
        do {
          const page = await ops.listDeadLetters({ topic: options.topic, group: options.group, ...toFilter(options), limit: options.limit, cursor });
          if (out.json) for (const letter of page.items) out.line('', letter);
          else rows.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (options.allPages && cursor !== undefined);
        if (!out.json) {
          out.table(rows.map(summary), ['id', 'offset', 'reason', 'attempts', 'replays', 'error', 'key', 'failed']);
          if (cursor !== undefined) out.note(`More: --cursor ${cursor} (or --all-pages)`);
        }
      }, command),
    );

  scoped(dlt.command('show'))
    .description('one dead letter with its payload, headers, error and stack')
    .argument('<id>')
    .option('--bytes <encoding>', 'how a binary value prints: base64 or hex', 'base64')
    .addHelpText('after', '\nExamples:\n  $ brook dlt show 3-1764576000000-0 -t orders.created -g payments')
    .action((id: string, options: Scope & { bytes: 'base64' | 'hex' }, command: Command) =>
      run(async ({ ops, out }) => {
        const letter = await ops.getDeadLetter({ topic: options.topic, group: options.group, id });
        if (letter === null) {
          throw new CommandError('NOT_FOUND', `Dead letter ${id} of ${options.group} on ${options.topic} does not exist (any more): list them with brook dlt list.`, EXIT.NOT_FOUND);
        }
        out.document(letter, () => [
          `Dead letter ${letter.id}  ${letter.topic}/${letter.partition}@${letter.offset}  group ${letter.group}  handler ${letter.handler}`,
          `Reason:    ${letter.reason} after ${letter.attempts} attempt${letter.attempts === 1 ? '' : 's'}`,
          `Failures:  first ${iso(letter.firstFailureAt)}, last ${iso(letter.lastFailureAt)}, dead-lettered ${iso(letter.deadLetteredAt)}`,
          `Error:     ${letter.error.name}: ${letter.error.message}`,
          `Key:       ${letter.message.key ?? '-'}`,
          `Headers:   ${JSON.stringify(letter.message.headers)}`,
          `Value (${letter.message.encoding}):`,
          formatValue(letter.message.value, { pretty: true, bytes: options.bytes }),
          ...(letter.error.stack === null ? [] : ['Stack:', letter.error.stack]),
        ]);
      }, command),
    );

  dlt
    .command('count')
    .description('dead letters per topic and group')
    .option('-t, --topic <topic>', 'only this topic')
    .option('-g, --group <group>', 'only this group')
    .addHelpText('after', '\nExamples:\n  $ brook dlt count\n  $ brook dlt count -g payments --json')
    .action((options: Partial<Scope>, command: Command) =>
      run(async ({ ops, out }) => {
        const count = await ops.countDeadLetters(options);
        out.table(count.byTopicAndGroup, ['topic', 'group', 'count'], count);
        if (!out.json) out.note(`Total: ${count.total}`);
      }, command),
    );

  const selection = (command: Command) =>
    filterOptions(scoped(command))
      .option('--id <id>', 'a dead letter (repeatable)', parse.collect, [])
      .option('--all', 'every dead letter of the group on the topic (those there now)', false)
      .option('--dry-run', 'only show how many match and a sample; change nothing', false);

  selection(dlt.command('replay'))
    .description('sends dead letters back: to the group that failed them (default) or re-published to the topic')
    .option('--to <target>', 'group: only the failed group, attempts reset; topic: every group again', 'group')
    .option('--force', 'replay parked messages too (the replay cap is skipped)', false)
    .option('--max-per-second <n>', 'rate of a replay job (more than one page)', parse.count('--max-per-second', 1, 100_000))
    .option('--no-wait', 'start a replay job and return without following it')
    .addHelpText(
      'after',
      `
More than a page (500) of matches runs as a replay job in the host's Redis, resumed by the active
controller if a host dies; the command follows it with a progress bar (--no-wait to return at once).

Examples:
  $ brook dlt replay -t orders.created -g inventory --all --dry-run
  $ brook dlt replay -t orders.created -g inventory --error-text "out of stock" --max-per-second 200
  $ brook dlt replay -t orders.created -g inventory --id 0-1764576000000-0 --id 2-1764576000123-0`,
    )
    .action((options: SelectionOptions & { to: string; force: boolean; maxPerSecond?: number; wait: boolean }, command: Command) =>
      run(async ({ ops, out, signal }) => {
        if (options.to !== 'group' && options.to !== 'topic') throw new CommandError('INVALID_ARGUMENT', `--to must be group or topic; got ${JSON.stringify(options.to)}.`, EXIT.USAGE);
        const target = checkSelection(options);
        if (options.dryRun) {
          const answer = (await ops.replayDeadLetters({ ...target, to: options.to, force: options.force, dryRun: true })) as ReplayPreview;
          return printPreview(out, answer, 'replay');
        }
        const result = await ops.replayDeadLetters({ ...target, to: options.to, force: options.force, maxPerSecond: options.maxPerSecond });
        if ('dryRun' in result) return;
        if (result.job !== null) {
          out.note(`Replay job ${result.job.id} started: ${result.job.matched} to replay at up to ${result.job.maxPerSecond}/s.`);
          const job = options.wait ? await follow(ops, result.job, signal) : result.job;
          out.line(`Replay job ${job.id}: ${job.state}, ${job.replayed} of ${job.matched} replayed, ${job.parked} parked.`, job);
          return;
        }
        out.line(
          `Replayed ${result.replayed} dead letter${result.replayed === 1 ? '' : 's'} to the ${options.to}${result.parked.length > 0 ? `; ${result.parked.length} parked by the replay cap (--force replays them)` : ''}${missing(result.missing)}.`,
          result,
        );
        if (result.missing.length > 0) process.exitCode = EXIT.NOT_FOUND;
      }, command),
    );

  selection(dlt.command('purge'))
    .description('deletes dead letters for good (recorded in the audit log)')
    .addHelpText('after', '\nExamples:\n  $ brook dlt purge -t orders.created -g payments --all --dry-run\n  $ brook dlt purge -t orders.created -g payments --id 0-1764576000000-0')
    .action((options: SelectionOptions, command: Command) =>
      run(async ({ ops, out }) => {
        const target = checkSelection(options);
        if (options.dryRun) return printPreview(out, (await ops.purgeDeadLetters({ ...target, dryRun: true })) as ReplayPreview, 'purge');
        const result = (await ops.purgeDeadLetters(target)) as { purged: number; missing: string[] };
        out.line(`Purged ${result.purged} dead letter${result.purged === 1 ? '' : 's'}${missing(result.missing)}.`, result);
        if (result.missing.length > 0) process.exitCode = EXIT.NOT_FOUND;
      }, command),
    );

  const jobs = dlt.command('jobs').description('replay jobs: list, show, cancel');
  jobs
    .command('list', { isDefault: true })
    .description('every replay job, newest first')
    .action((_options, command: Command) =>
      run(async ({ ops, out }) => {
        const list = await ops.replayJobs();
        out.table(list.map(jobRow), undefined, list);
      }, command),
    );
  jobs
    .command('show')
    .description("a job's progress (--follow: until it ends, with a progress bar)")
    .argument('<id>')
    .option('-f, --follow', 'follow it until it ends', false)
    .action((id: string, options: { follow: boolean }, command: Command) =>
      run(async ({ ops, out, signal }) => {
        let job = await ops.replayJob(id);
        if (job === null) throw new CommandError('NOT_FOUND', `Replay job ${id} does not exist: list them with brook dlt jobs.`, EXIT.NOT_FOUND);
        if (options.follow) job = await follow(ops, job, signal);
        out.table([jobRow(job)], undefined, job);
      }, command),
    );
  jobs
    .command('cancel')
    .description('stops a job; what it did not replay stays dead-lettered')
    .argument('<id>')
    .action((id: string, _options, command: Command) =>
      run(async ({ ops, out }) => {
        const job = await ops.cancelReplayJob(id);
        if (job === null) throw new CommandError('NOT_FOUND', `Replay job ${id} does not exist: list them with brook dlt jobs.`, EXIT.NOT_FOUND);
        out.line(`Replay job ${id}: ${job.state} after ${job.replayed} of ${job.matched}.`, job);
      }, command),
    );

  scoped(dlt.command('skip'))
    .description('dead-letters the message a partition is stuck on (blocking retries), with reason operator; audited')
    .requiredOption('-p, --partition <n>', 'the stuck partition', parse.count('--partition', 0, 4_095))
    .addHelpText('after', '\nExamples:\n  $ brook dlt skip -t orders.created -g payments -p 3')
    .action((options: Scope & { partition: number }, command: Command) =>
      run(async ({ ops, out }) => {
        const result = await ops.skip({ topic: options.topic, group: options.group, partition: options.partition });
        out.line(`Skipped ${options.topic}/${result.partition}@${result.offset}: dead letter ${result.deadLetterId}.`, result);
      }, command),
    );

  dlt
    .command('audit')
    .description('every replay and purge, newest first, with who did it')
    .option('-l, --limit <n>', 'how many', parse.count('--limit', 1, 1_000), 50)
    .addHelpText('after', '\nExamples:\n  $ brook dlt audit --limit 10')
    .action((options: { limit: number }, command: Command) =>
      run(async ({ ops, out }) => {
        const page = await ops.audit({ limit: options.limit });
        out.table(
          page.items.map((entry) => ({
            at: iso(entry.at),
            actor: entry.actor,
            action: entry.action,
            topic: entry.topic,
            group: entry.group,
            to: entry.to,
            selection: entry.selection === 'all' ? 'all' : Array.isArray(entry.selection) ? `${entry.selection.length} ids` : `filter ${JSON.stringify(entry.selection)}`,
            count: entry.result.count,
          })),
          undefined,
          page,
        );
      }, command),
    );
}

function checkSelection(options: SelectionOptions): Scope & { ids?: string[]; all?: boolean; filter?: DeadLetterFilter } {
  const filter = toFilter(options);
  const given = [options.id.length > 0, options.all, filter !== undefined].filter(Boolean).length;
  if (given !== 1) throw new CommandError('INVALID_ARGUMENT', 'Select with --id <id> (repeatable), --all, or filters (--reason, --error-text, --key, --from-time, …): exactly one way.', EXIT.USAGE);
  const scope = { topic: options.topic, group: options.group };
  if (options.id.length > 0) return { ...scope, ids: options.id };
  return options.all ? { ...scope, all: true } : { ...scope, filter };
}

function printPreview(out: Output, preview: ReplayPreview, action: 'replay' | 'purge'): void {
  const matched = `${preview.matched}${preview.complete ? '' : ' or more'}`;
  out.document(preview, () => [
    `Would ${action} ${matched} dead letter${preview.matched === 1 ? '' : 's'}; nothing changed (drop --dry-run to do it).`,
    ...(preview.sample.length === 0 ? [] : ['', ...tableLines(preview.sample.map(summary), ['id', 'offset', 'reason', 'attempts', 'replays', 'error', 'key', 'failed'])]),
  ]);
}

/** Polls a replay job until it ends, with a progress bar on stderr. */
async function follow(ops: Operations, started: ReplayJobStatus, signal: AbortSignal): Promise<ReplayJobStatus> {
  const bar = new SingleBar({ format: 'replay [{bar}] {value}/{total} dead letters  {eta_formatted} left', stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2_000 }, undefined);
  bar.start(Math.max(started.matched, 1), started.replayed);
  let job = started;
  try {
    while (job.state === 'running' && !signal.aborted) {
      await delay(500, undefined, { signal }).catch(() => {});
      job = (await ops.replayJob(job.id)) ?? job;
      bar.update(job.replayed);
    }
  } finally {
    bar.stop();
  }
  return job;
}

function jobRow(job: ReplayJobStatus) {
  return {
    id: job.id,
    state: job.state,
    topic: job.topic,
    group: job.group,
    replayed: job.replayed,
    matched: job.matched,
    parked: job.parked,
    actor: job.actor,
    started: iso(job.createdAt),
  };
}

function summary(letter: DeadLetter) {
  const error = `${letter.error.name}: ${letter.error.message}`;
  return {
    id: letter.id,
    offset: letter.offset,
    reason: letter.reason,
    attempts: letter.attempts,
    replays: letter.parked ? `${letter.replays} (parked)` : letter.replays,
    error: error.length > 60 ? `${error.slice(0, 59)}…` : error,
    key: letter.message.key,
    failed: iso(letter.lastFailureAt),
  };
}

function missing(ids: string[]): string {
  return ids.length === 0 ? '' : `; not found: ${ids.join(', ')}`;
}

function iso(at: number): string {
  return new Date(at).toISOString();
}
