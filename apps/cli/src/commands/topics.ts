import type { Command } from 'commander';
import { tableLines } from '../output.js';
import { parse, type Runner } from '../program.js';

export function topicCommands(program: Command, run: Runner): void {
  const topics = program.command('topics').description('list, describe, create, grow and delete topics');

  topics
    .command('list')
    .description('every topic with its partition count')
    .addHelpText('after', '\nExamples:\n  $ brook topics list\n  $ brook topics list --json | jq -r .[].topic')
    .action((_options, command: Command) =>
      run(async ({ ops, out }) => {
        const list = await ops.listTopics();
        out.table(list, ['topic', 'partitions']);
      }, command),
    );

  topics
    .command('describe')
    .description('retention and, per partition, log start and end offsets, leader and replicas')
    .argument('<topic>')
    .addHelpText('after', '\nExamples:\n  $ brook topics describe orders.created')
    .action((topic: string, _options, command: Command) =>
      run(async ({ ops, out }) => {
        const description = await ops.describeTopic(topic);
        out.document(description, () => [
          `Topic: ${description.topic}  Partitions: ${description.partitions.length}  Retention: ${retention(description.retention)}`,
          '',
          ...tableLines(
            description.partitions.map((partition) => ({
              partition: partition.partition,
              low: partition.lowOffset,
              high: partition.highOffset,
              messages: partition.highOffset - partition.lowOffset,
              leader: partition.leader,
              replicas: partition.replicas.length === 0 ? null : partition.replicas,
            })),
          ),
        ]);
      }, command),
    );

  topics
    .command('create')
    .description('creates a topic (nothing changes when it exists with the same configuration)')
    .argument('<topic>')
    .option('-p, --partitions <n>', 'partition count', parse.count('--partitions', 1, 4_096), 1)
    .option('--retention-ms <ms>', 'drop messages older than this (by the Redis clock)', parse.count('--retention-ms', 1))
    .option('--retention-messages <n>', 'keep about this many messages per partition', parse.count('--retention-messages', 1))
    .addHelpText('after', '\nExamples:\n  $ brook topics create orders.created --partitions 12\n  $ brook topics create audit --partitions 3 --retention-ms 604800000')
    .action((topic: string, options: { partitions: number; retentionMs?: number; retentionMessages?: number }, command: Command) =>
      run(async ({ ops, out }) => {
        const retention =
          options.retentionMs === undefined && options.retentionMessages === undefined
            ? undefined
            : { maxAgeMs: options.retentionMs ?? null, maxMessages: options.retentionMessages ?? null };
        const created = await ops.createTopic({ topic, partitions: options.partitions, retention });
        out.line(created ? `Created topic ${topic} with ${options.partitions} partitions.` : `Topic ${topic} already exists with this configuration.`, { topic, created });
      }, command),
    );

  topics
    .command('add-partitions')
    .description('grows a topic to a partition count (partitions never shrink)')
    .argument('<topic>')
    .requiredOption('-p, --partitions <n>', 'the new partition count', parse.count('--partitions', 1, 4_096))
    .addHelpText('after', '\nExamples:\n  $ brook topics add-partitions orders.created --partitions 24')
    .action((topic: string, options: { partitions: number }, command: Command) =>
      run(async ({ ops, out }) => {
        await ops.addPartitions(topic, options.partitions);
        out.line(`Topic ${topic} now has ${options.partitions} partitions.`, { topic, partitions: options.partitions });
      }, command),
    );

  topics
    .command('delete')
    .description("deletes a topic with its messages and every group's state on it")
    .argument('<topic>')
    .addHelpText('after', '\nExamples:\n  $ brook topics delete scratch.events')
    .action((topic: string, _options, command: Command) =>
      run(async ({ ops, out }) => {
        await ops.deleteTopic(topic);
        out.line(`Deleted topic ${topic}.`, { topic, deleted: true });
      }, command),
    );
}

function retention(policy: { maxAgeMs: number | null; maxMessages: number | null }): string {
  const parts = [policy.maxAgeMs === null ? null : `${policy.maxAgeMs} ms`, policy.maxMessages === null ? null : `~${policy.maxMessages} messages`].filter((part) => part !== null);
  return parts.length === 0 ? 'none' : parts.join(', ');
}
