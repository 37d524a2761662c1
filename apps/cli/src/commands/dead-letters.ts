import type { DeadLetter, DeadLetterReason } from '@brook/broker';
import type { Command } from 'commander';
import { CommandError, EXIT } from '../exit-codes.js';
import { formatValue, tableLines, type Output } from '../output.js';
import { parse, type Runner } from '../program.js';
import type { Operations } from '../operations.js';

interface Scope {
  topic: string;
  group: string;
}

interface SelectionOptions extends Scope {
  id: string[];
  all: boolean;
  dryRun: boolean;
}

const REASONS = ['handler-error', 'non-retriable', 'undecodable', 'validation', 'timeout'];

export function deadLetterCommands(program: Command, run: Runner): void {
  const dlt = program.command('dlt').description("a group's dead letters: list, show, count, replay, purge, audit");
  const scoped = (command: Command) =>
    command.requiredOption('-t, --topic <topic>', 'the topic the messages came from').requiredOption('-g, --group <group>', 'the group that failed them');

  scoped(dlt.command('list'))
    .description("a group's dead letters on a topic, by partition then age")
    .option('-p, --partition <n>', 'only this partition', parse.count('--partition', 0, 4_095))
    .option('-r, --reason <reason>', `only this reason: ${REASONS.join(', ')}`)
    .option('-l, --limit <n>', 'page size', parse.count('--limit', 1, 1_000), 100)
    .option('--cursor <cursor>', 'the next page (printed after a page that has more)')
    .option('--all-pages', 'every page, not only the first', false)
    .addHelpText('after', '\nExamples:\n  $ brook dlt list -t orders.created -g payments\n  $ brook dlt list -t orders.created -g payments --reason non-retriable --all-pages --json')
    .action((options: Scope & { partition?: number; reason?: string; limit: number; cursor?: string; allPages: boolean }, command: Command) =>
      run(async ({ ops, out }) => {
        let cursor = options.cursor;
        const rows: DeadLetter[] = [];
        do {
          const page = await ops.listDeadLetters({
            topic: options.topic,
            group: options.group,
            partition: options.partition,
            reason: options.reason as DeadLetterReason | undefined,
            limit: options.limit,
            cursor,
          });
          if (out.json) for (const letter of page.items) out.line('', letter);
          else rows.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (options.allPages && cursor !== undefined);
        if (!out.json) {
          out.table(rows.map(summary), ['id', 'offset', 'reason', 'attempts', 'error', 'key', 'failed']);
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
    scoped(command)
      .option('--id <id>', 'a dead letter (repeatable)', parse.collect, [])
      .option('--all', 'every dead letter of the group on the topic (those there now)', false)
      .option('--dry-run', 'only show how many and which would be affected', false);

  selection(dlt.command('replay'))
    .description('sends dead letters back: to the group that failed them (default) or re-published to the topic')
    .option('--to <target>', 'group: only the failed group, attempts reset; topic: every group again', 'group')
    .addHelpText(
      'after',
      '\nExamples:\n  $ brook dlt replay -t orders.created -g inventory --all --dry-run\n  $ brook dlt replay -t orders.created -g inventory --id 0-1764576000000-0 --id 2-1764576000123-0',
    )
    .action((options: SelectionOptions & { to: string }, command: Command) =>
      run(async ({ ops, out }) => {
        if (options.to !== 'group' && options.to !== 'topic') throw new CommandError('INVALID_ARGUMENT', `--to must be group or topic; got ${JSON.stringify(options.to)}.`, EXIT.USAGE);
        const target = checkSelection(options);
        if (options.dryRun) return preview(ops, out, options, 'replay');
        const result = await ops.replayDeadLetters({ ...target, to: options.to });
        out.line(`Replayed ${result.replayed} dead letter${result.replayed === 1 ? '' : 's'} to the ${options.to}${missing(result.missing)}.`, result);
        if (result.missing.length > 0) process.exitCode = EXIT.NOT_FOUND;
      }, command),
    );

  selection(dlt.command('purge'))
    .description('deletes dead letters for good (recorded in the audit log)')
    .addHelpText('after', '\nExamples:\n  $ brook dlt purge -t orders.created -g payments --all --dry-run\n  $ brook dlt purge -t orders.created -g payments --id 0-1764576000000-0')
    .action((options: SelectionOptions, command: Command) =>
      run(async ({ ops, out }) => {
        const target = checkSelection(options);
        if (options.dryRun) return preview(ops, out, options, 'purge');
        const result = await ops.purgeDeadLetters(target);
        out.line(`Purged ${result.purged} dead letter${result.purged === 1 ? '' : 's'}${missing(result.missing)}.`, result);
        if (result.missing.length > 0) process.exitCode = EXIT.NOT_FOUND;
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

function checkSelection(options: SelectionOptions): Scope & { ids?: string[]; all?: boolean } {
  if ((options.id.length > 0) === options.all) throw new CommandError('INVALID_ARGUMENT', 'Give --id <id> (repeatable) or --all.', EXIT.USAGE);
  return { topic: options.topic, group: options.group, ...(options.all ? { all: true } : { ids: options.id }) };
}

/** What a replay or purge would touch, changing nothing. */
async function preview(ops: Operations, out: Output, options: SelectionOptions, action: 'replay' | 'purge'): Promise<void> {
  let matched: number;
  let sample: DeadLetter[];
  let absent: string[] = [];
  if (options.all) {
    const count = await ops.countDeadLetters({ topic: options.topic, group: options.group });
    matched = count.total;
    sample = (await ops.listDeadLetters({ topic: options.topic, group: options.group, limit: 5 })).items;
  } else {
    const found = await Promise.all(options.id.map((id) => ops.getDeadLetter({ topic: options.topic, group: options.group, id })));
    sample = found.filter((letter): letter is DeadLetter => letter !== null);
    absent = options.id.filter((_, index) => found[index] === null);
    matched = sample.length;
  }
  out.document({ dryRun: true, action, matched, missing: absent, sample }, () => [
    `Would ${action} ${matched} dead letter${matched === 1 ? '' : 's'}${missing(absent)}; nothing changed (drop --dry-run to do it).`,
    ...(sample.length === 0 ? [] : ['', ...tableLines(sample.map(summary), ['id', 'offset', 'reason', 'attempts', 'error', 'key', 'failed'])]),
  ]);
}

function summary(letter: DeadLetter) {
  const error = `${letter.error.name}: ${letter.error.message}`;
  return {
    id: letter.id,
    offset: letter.offset,
    reason: letter.reason,
    attempts: letter.attempts,
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
