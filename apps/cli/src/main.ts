import { CommanderError } from 'commander';
import { describeFailure, EXIT } from './exit-codes.js';
import { createOutput } from './output.js';
import { connect, createProgram, type GlobalOptions } from './program.js';

const interrupted = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => interrupted.abort());
}

const program = createProgram(async (action, command) => {
  const options = command.optsWithGlobals<GlobalOptions>();
  // REDIS_URL is common in an app's environment: a --host (or BROOK_HOST) given alongside it wins, and a --redis flag wins over BROOK_HOST.
  if (options.redis !== undefined && options.host !== undefined) {
    const redisSource = command.getOptionValueSourceWithGlobals('redis');
    const hostSource = command.getOptionValueSourceWithGlobals('host');
    if (redisSource === 'env') options.redis = undefined;
    else if (hostSource === 'env') options.host = undefined;
  }
  const out = createOutput(options.json);
  const { ops, redis } = connect(options);
  try {
    await action({ ops, out, redis, signal: interrupted.signal, stdin: process.stdin });
  } finally {
    await ops.close();
  }
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; every parse error (unknown option, missing argument, bad value) is a usage error.
    process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else {
    const failure = describeFailure(error);
    process.stderr.write(`brook: ${failure.message}\n`);
    process.exitCode = failure.exitCode;
  }
}
