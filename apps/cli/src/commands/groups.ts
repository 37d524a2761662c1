import type { ResetTarget } from '@brook/broker';
import type { Command } from 'commander';
import { tableLines } from '../output.js';
import { parse, type Runner } from '../program.js';

type TargetOptions = { toEarliest?: boolean; toLatest?: boolean; toOffset?: number; toDatetime?: number };

export function groupCommands(program: Command, run: Runner, target: (options: TargetOptions) => ResetTarget): void {
  const groups = program.command('groups').description('list and describe consumer groups, reset their offsets');

  groups
    .command('list')
    .description('every group with its kind, topics and live members')
    .addHelpText('after', '\nExamples:\n  $ brook groups list')
    .action((_options, command: Command) =>
      run(async ({ ops, out }) => {
        const list = await ops.listGroups();
        out.table(
          list.map((group) => ({ group: group.group, kind: group.kind, members: group.members, lag: group.lag ?? null, 'lag-seconds': seconds(group.lagSeconds), topics: group.topics })),
          ['group', 'kind', 'members', 'lag', 'lag-seconds', 'topics'],
          list,
        );
      }, command),
    );

  groups
    .command('describe')
    .description('members, and per partition the owner, committed offset, lag, pending, retrying and dead letters')
    .argument('<group>')
    .option('-t, --topic <topic>', 'only this topic')
    .addHelpText('after', '\nExamples:\n  $ brook groups describe payments\n  $ brook groups describe payments --topic orders.created --json')
    .action((group: string, options: { topic?: string }, command: Command) =>
      run(async ({ ops, out }) => {
        const described = await ops.describeGroup(group, options.topic);
        out.document(described.length === 1 && options.topic !== undefined ? described[0] : described, () =>
          described.flatMap((description) => {
            const lag = description.partitions.reduce((sum, partition) => sum + (partition.lag ?? 0), 0);
            const oldest = Math.max(0, ...description.partitions.map((partition) => partition.lagSeconds ?? 0));
            return [
              `Group: ${description.group} (${description.kind})  Topic: ${description.topic}  Members: ${description.members.length}  Lag: ${lag} (${seconds(oldest)})`,
              '',
              ...tableLines(
                description.partitions.map((partition) => ({
                  partition: partition.partition,
                  owner: partition.owner,
                  committed: partition.committedOffset,
                  high: partition.highOffset,
                  lag: partition.lag,
                  'lag-seconds': seconds(partition.lagSeconds),
                  pending: partition.pending,
                  retrying: partition.retrying,
                  'dead-letters': partition.deadLettered,
                })),
              ),
              ...(description.members.length === 0
                ? []
                : ['', ...tableLines(description.members.map((member) => ({ member: member.memberId, client: member.clientId, partitions: member.partitions })))]),
              '',
            ];
          }),
        );
      }, command),
    );

  groups
    .command('delete')
    .description('deletes a group and every key of it (positions, pending, retries, dead letters, counters, lag history)')
    .argument('<group>')
    .option('--force', 'even while the group has live members (stop them first: a running member registers it again)', false)
    .addHelpText('after', '\nExamples:\n  $ brook groups delete old-audit\n  $ brook groups delete old-audit --force')
    .action((group: string, options: { force: boolean }, command: Command) =>
      run(async ({ ops, out }) => {
        const result = await ops.deleteGroup({ group, force: options.force });
        out.line(`Deleted group ${group} (${result.topics.join(', ') || 'no topics'}; ${result.keysDeleted} keys).`, result);
      }, command),
    );

  groups
    .command('reset-offsets')
    .description("moves a group's position on every partition of a topic; shows the plan unless --execute")
    .argument('<group>')
    .requiredOption('-t, --topic <topic>', 'the topic')
    .option('--to-earliest', 'to the oldest message still stored')
    .option('--to-latest', 'past the newest message (skip everything stored)')
    .option('--to-offset <n>', 'to this offset on every partition', parse.count('--to-offset'))
    .option('--to-datetime <time>', 'to the first message appended at or after this time (ISO or epoch ms)', parse.time)
    .option('--execute', 'apply it (without: only show what would change)', false)
    .option('--force', 'even while the group has live members (they continue from the new position)', false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ brook groups reset-offsets payments --topic orders.created --to-earliest\n  $ brook groups reset-offsets payments --topic orders.created --to-datetime 2026-12-01T08:00:00Z --execute',
    )
    .action((group: string, options: TargetOptions & { topic: string; execute: boolean; force: boolean }, command: Command) =>
      run(async ({ ops, out }) => {
        const to = target(options);
        const [before] = await ops.describeGroup(group, options.topic);
        if (!options.execute) {
          const plan = before.partitions.map((partition) => ({
            partition: partition.partition,
            current: partition.committedOffset,
            target: planned(to, partition.lowOffset, partition.highOffset),
            lag: partition.lag,
          }));
          out.table(plan, ['partition', 'current', 'target', 'lag'], { group, topic: options.topic, dryRun: true, to, partitions: plan });
          out.note(`Nothing changed: add --execute to move ${group} on ${options.topic}${before.members.length > 0 ? ` (it has ${before.members.length} live members: add --force too)` : ''}.`);
          return;
        }
        const moved = await ops.resetOffsets({ group, topic: options.topic, to, force: options.force });
        const previous = new Map(before.partitions.map((partition) => [partition.partition, partition.committedOffset]));
        out.table(
          moved.map((partition) => ({ partition: partition.partition, previous: previous.get(partition.partition) ?? null, offset: partition.offset })),
          ['partition', 'previous', 'offset'],
          { group, topic: options.topic, partitions: moved },
        );
      }, command),
    );
}

function seconds(value: number | null | undefined): string | null {
  return value === null || value === undefined ? null : `${value.toFixed(1)}s`;
}

/** Where a reset would put a partition, as far as it is known without asking Redis. */
function planned(to: ResetTarget, low: number, high: number): number | string {
  if (to === 'earliest') return low;
  if (to === 'latest') return high;
  if ('offset' in to) return Math.min(Math.max(to.offset, low), high);
  return `first at ${new Date(to.timestamp).toISOString()}`;
}
