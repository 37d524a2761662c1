import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { CommandError, EXIT } from '../exit-codes.js';
import { formatValue, jsonReplacer } from '../output.js';
import { parse, type CommandContext, type Runner } from '../program.js';

interface ConsumeOptions {
  group?: string;
  fromBeginning: boolean;
  offset?: number;
  fromTime?: number;
  partition?: number;
  follow: boolean;
  maxMessages?: number;
  output?: string;
  pretty: boolean;
  bytes: 'base64' | 'hex';
  pollMs: number;
}

/** A message as the command line prints it. */
interface Printed {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: unknown;
  headers: Record<string, string>;
  timestamp: number;
}

/** `brook consume <topic>`: kcat-like; without a group it reads without joining any group and changes nothing. */
export function consume(run: Runner): Command {
  return new Command('consume')
    .description('prints messages of a topic; without --group it changes nothing (no group joined, no offset committed)')
    .argument('<topic>')
    .option('-g, --group <group>', 'consume as a member of this group, committing its offsets (needs --redis)')
    .option('--from-beginning', 'start at the oldest stored message (default without --follow)', false)
    .option('-o, --offset <n>', 'start at this offset (with --partition: of that partition only)', parse.count('--offset'))
    .option('--from-time <time>', 'start at the first message appended at or after this time (ISO or epoch ms)', parse.time)
    .option('-p, --partition <n>', 'only this partition', parse.count('--partition', 0, 4_095))
    .option('-f, --follow', 'keep waiting for new messages until Ctrl-C (starts at the end unless --from-beginning or --offset)', false)
    .option('-n, --max-messages <n>', 'stop after this many', parse.count('--max-messages', 1))
    .option('--output <path>', 'write the messages to a file (with a progress bar on stderr)')
    .option('--pretty', 'pretty-print JSON values', false)
    .option('--bytes <encoding>', 'how binary values print: base64 or hex', 'base64')
    .option('--poll-ms <ms>', 'with --follow: how often an idle partition is read again', parse.count('--poll-ms', 10, 60_000), 250)
    .addHelpText(
      'after',
      `
Without --follow it prints what the partitions hold now and exits; with --group it exits once the
group has no lag left. Messages print as "<topic>/<partition>@<offset> key=<key> <value>", or with
--json one object per line.

Examples:
  $ brook consume orders.created                                 # everything stored now, then exit
  $ brook consume orders.created --follow                        # new messages until Ctrl-C
  $ brook consume orders.created --partition 3 --offset 1200 -n 10
  $ brook consume orders.created --from-time 2026-12-01T08:00:00Z -n 100
  $ brook consume orders.created --json --output orders.jsonl    # to a file, with a progress bar
  $ brook consume orders.created --group audit-replay --from-beginning`,
    )
    .action((topic: string, options: ConsumeOptions, command: Command) =>
      run(async (context) => {
        if (options.bytes !== 'base64' && options.bytes !== 'hex') {
          throw new CommandError('INVALID_ARGUMENT', `--bytes must be base64 or hex; got ${JSON.stringify(options.bytes)}.`, EXIT.USAGE);
        }
        const sink = await openSink(context, options);
        try {
          if (options.group !== undefined) await consumeAsGroup(context, topic, options.group, options, sink);
          else await read(context, topic, options, sink);
        } finally {
          await sink.close();
        }
      }, command),
    );
}

interface Sink {
  write(message: Printed): void;
  /** Stops when it returns true. */
  readonly full: boolean;
  count: number;
  progress(total: number | undefined): void;
  close(): Promise<void>;
}

async function openSink({ out }: CommandContext, options: ConsumeOptions): Promise<Sink> {
  const file = options.output === undefined ? undefined : createWriteStream(options.output, { flags: 'w' });
  if (file !== undefined) await once(file, 'open');
  const stream: NodeJS.WritableStream = file ?? process.stdout;
  let bar: SingleBar | undefined;
  const sink: Sink = {
    count: 0,
    get full() {
      return options.maxMessages !== undefined && sink.count >= options.maxMessages;
    },
    write(message) {
      const text = out.json
        ? JSON.stringify(message, jsonReplacer)
        : `${message.topic}/${message.partition}@${message.offset} key=${message.key ?? '-'} ${formatValue(message.value, options)}`;
      stream.write(`${text}\n`);
      sink.count++;
      bar?.increment();
    },
    progress(total) {
      if (file === undefined || total === undefined || total === 0) return;
      bar = new SingleBar({ format: 'consume [{bar}] {value}/{total} messages  {eta_formatted} left', stream: process.stderr, hideCursor: false, noTTYOutput: true, notTTYSchedule: 2_000 }, undefined);
      bar.start(options.maxMessages === undefined ? total : Math.min(total, options.maxMessages), 0);
    },
    async close() {
      bar?.stop();
      if (file !== undefined) {
        file.end();
        await once(file, 'finish');
        out.note(`Wrote ${sink.count} message${sink.count === 1 ? '' : 's'} to ${options.output}.`);
      }
    },
  };
  return sink;
}

/** Reads partitions from their start positions without any group: no state changes anywhere. */
async function read({ ops, signal }: CommandContext, topic: string, options: ConsumeOptions, sink: Sink): Promise<void> {
  const description = await ops.describeTopic(topic);
  let partitions = description.partitions;
  if (options.partition !== undefined) {
    partitions = partitions.filter((partition) => partition.partition === options.partition);
    if (partitions.length === 0) {
      throw new CommandError('PARTITION_OUT_OF_RANGE', `Topic ${topic} has partitions 0 to ${description.partitions.length - 1}; got --partition ${options.partition}.`, EXIT.USAGE);
    }
  }
  const positions = new Map(
    partitions.map((partition) => [
      partition.partition,
      options.offset ?? (options.fromBeginning || !options.follow ? partition.lowOffset : partition.highOffset),
    ]),
  );
  if (options.fromTime !== undefined) {
    if (options.offset !== undefined) throw new CommandError('INVALID_ARGUMENT', 'Give --offset or --from-time, not both.', EXIT.USAGE);
    // The first offset at or after the time, per partition: one page read from the time.
    for (const partition of partitions) {
      const page = await ops.readMessages({ topic, partition: partition.partition, timestamp: options.fromTime, limit: 1 });
      positions.set(partition.partition, page.messages[0]?.offset ?? page.nextOffset);
    }
  }
  const ends = new Map(partitions.map((partition) => [partition.partition, partition.highOffset]));
  if (!options.follow) sink.progress([...positions].reduce((sum, [partition, from]) => sum + Math.max(0, ends.get(partition)! - from), 0));
  while (!signal.aborted && !sink.full) {
    let read = 0;
    for (const [partition, from] of positions) {
      if (!options.follow && from >= ends.get(partition)!) continue;
      const page = await ops.readMessages({ topic, partition, offset: from, limit: 500 });
      for (const message of page.messages) {
        if (!options.follow && message.offset >= ends.get(partition)!) break;
        sink.write({ topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers, timestamp: message.timestamp });
        read++;
        if (sink.full) return;
      }
      // An empty page past retention's start still moves on: nextOffset skips removed offsets.
      positions.set(partition, Math.max(page.nextOffset, from));
      if (!options.follow && page.messages.length === 0) positions.set(partition, ends.get(partition)!);
    }
    if (!options.follow && [...positions].every(([partition, from]) => from >= ends.get(partition)!)) return;
    if (read === 0) await delay(options.pollMs, undefined, { signal }).catch(() => {});
  }
}

/** Consumes as a member of `group`: joins, owns partitions, commits after printing each message. */
async function consumeAsGroup(context: CommandContext, topic: string, group: string, options: ConsumeOptions, sink: Sink): Promise<void> {
  if (context.redis === undefined) {
    throw new CommandError('INVALID_ARGUMENT', '--group consumes as a group member, which needs --redis (the host has no consume API); drop --group to read through the host.', EXIT.USAGE);
  }
  if (options.offset !== undefined || options.fromTime !== undefined || options.partition !== undefined || options.maxMessages !== undefined) {
    // A member commits every message it is handed; stopping after exactly N would leave fetched ones committed unprinted.
    throw new CommandError(
      'INVALID_ARGUMENT',
      '--offset, --from-time, --partition and --max-messages read without a group; with --group it exits once caught up (or at Ctrl-C with --follow). To move a group: brook groups reset-offsets.',
      EXIT.USAGE,
    );
  }
  const consumer = context.redis.consumer(group);
  const stopped = new AbortController();
  const stop = () => stopped.abort();
  context.signal.addEventListener('abort', stop, { once: true });
  try {
    await consumer.subscribe({ topic, fromBeginning: options.fromBeginning });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        sink.write({ topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers, timestamp: message.timestamp });
      },
    });
    while (!stopped.signal.aborted) {
      await delay(options.follow ? 1_000 : 250, undefined, { signal: stopped.signal }).catch(() => {});
      if (!options.follow && !stopped.signal.aborted && (await context.redis.caughtUp(group, topic))) stop();
    }
  } finally {
    context.signal.removeEventListener('abort', stop);
    await consumer.close();
  }
}
