import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Message } from '@brook/broker';
import { Command } from 'commander';
import { CommandError, EXIT } from '../exit-codes.js';
import { parse, type Runner } from '../program.js';

interface ProduceOptions {
  key?: string;
  keySeparator?: string;
  header: string[];
  partition?: number;
  file?: string;
  valueFormat: 'text' | 'json';
  batchSize: number;
}

/** `brook produce <topic>`: one message per input line, sent in batches, in order. */
export function produce(run: Runner): Command {
  return new Command('produce')
    .description('produces one message per line of stdin (or --file), in order')
    .argument('<topic>')
    .option('-k, --key <key>', 'the key of every message')
    .option('-K, --key-separator <sep>', 'split each line at the first <sep> into key and value (kcat -K)')
    .option('-H, --header <name=value>', 'a header on every message (repeatable)', parse.collect, [])
    .option('-p, --partition <n>', 'this partition instead of the key hash', parse.count('--partition', 0, 4_095))
    .option('-f, --file <path>', 'read the lines from a file instead of stdin')
    .option('--value-format <format>', 'text: each line as a string; json: each line parsed as JSON', 'text')
    .option('--batch-size <n>', 'messages per send', parse.count('--batch-size', 1, 10_000), 500)
    .addHelpText(
      'after',
      `
Prints a summary on stderr; with --json, each message's partition and offset on stdout, one per line.

Examples:
  $ echo '{"id":1}' | brook produce orders.created --key customer-42 --value-format json
  $ brook produce orders.created -K : --file orders.txt          # lines like customer-42:{"id":1}
  $ brook produce audit -H source=cli -H trace=abc < events.log`,
    )
    .action((topic: string, options: ProduceOptions, command: Command) =>
      run(async ({ ops, out, stdin }) => {
        if (options.valueFormat !== 'text' && options.valueFormat !== 'json') {
          throw new CommandError('INVALID_ARGUMENT', `--value-format must be text or json; got ${JSON.stringify(options.valueFormat)}.`, EXIT.USAGE);
        }
        if (options.key !== undefined && options.keySeparator !== undefined) {
          throw new CommandError('INVALID_ARGUMENT', 'Give --key or --key-separator, not both.', EXIT.USAGE);
        }
        const headers = parseHeaders(options.header);
        const input = options.file === undefined ? stdin : createReadStream(options.file);
        const lines = createInterface({ input, crlfDelay: Infinity });
        let batch: Message[] = [];
        let sent = 0;
        const partitions = new Set<number>();
        const flush = async () => {
          if (batch.length === 0) return;
          const records = await ops.produce(topic, batch);
          for (const record of records) {
            partitions.add(record.partition);
            if (out.json) out.line('', record);
          }
          sent += records.length;
          batch = [];
        };
        let lineNumber = 0;
        try {
          for await (const line of lines) {
            lineNumber++;
            if (line === '') continue;
            let message: Message;
            try {
              message = toMessage(line, lineNumber, options, headers);
            } catch (error) {
              // Everything before the bad line is sent, nothing from it on: the input can be fixed and resumed there.
              await flush();
              const problem = error as CommandError;
              throw new CommandError(problem.code, `${problem.message} The ${sent} message${sent === 1 ? '' : 's'} before it were sent; nothing from line ${lineNumber} on.`, problem.exitCode);
            }
            batch.push(message);
            if (batch.length >= options.batchSize) await flush();
          }
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CommandError('NOT_FOUND', `No such file: ${options.file}.`, EXIT.NOT_FOUND);
          throw error;
        }
        await flush();
        out.note(`Produced ${sent} message${sent === 1 ? '' : 's'} to ${topic}${partitions.size > 0 ? ` (partitions ${[...partitions].sort((a, b) => a - b).join(', ')})` : ''}.`);
      }, command),
    );
}

function toMessage(line: string, lineNumber: number, options: ProduceOptions, headers: Record<string, string> | undefined): Message {
  let key: string | null = options.key ?? null;
  let text = line;
  if (options.keySeparator !== undefined) {
    const at = line.indexOf(options.keySeparator);
    if (at < 0) throw new CommandError('INVALID_ARGUMENT', `Line ${lineNumber} has no key separator ${JSON.stringify(options.keySeparator)}.`, EXIT.USAGE);
    key = line.slice(0, at);
    text = line.slice(at + options.keySeparator.length);
  }
  let value: unknown = text;
  if (options.valueFormat === 'json') {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CommandError('INVALID_ARGUMENT', `Line ${lineNumber} is not JSON (${(error as Error).message}).`, EXIT.USAGE);
    }
  }
  return { key, value, headers, partition: options.partition };
}

function parseHeaders(pairs: string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CommandError('INVALID_ARGUMENT', `--header takes name=value; got ${JSON.stringify(pair)}.`, EXIT.USAGE);
    headers[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return headers;
}
