#!/usr/bin/env node
import { Logger } from '@nestjs/common';
import { hostOptionsFromEnv } from './config/host-options.env.js';
import { describeRedis } from './config/redis-env.js';
import { startBrokerHost } from './host.js';

/** `brook-host`: runs the broker host configured from the environment (see the package README). */
try {
  const host = await startBrokerHost(hostOptionsFromEnv());
  const { generatedToken, prefix, redis } = host.options;
  if (generatedToken !== null) {
    // Printed once and never stored: an operator without configured tokens can still get in.
    process.stdout.write(
      `\nNo BROOK_ADMIN_TOKENS configured; generated an admin token for this process only:\n\n    ${generatedToken.token}\n\n` +
        `Set real ones as comma-separated name:role:token entries (roles: viewer, operator, admin), e.g.\n` +
        `    BROOK_ADMIN_TOKENS="ops:admin:$(openssl rand -base64 32),grafana:viewer:$(openssl rand -base64 32)"\n\n`,
    );
  }
  new Logger('BrokerHost').log(`Listening on ${host.url} for Redis ${describeRedis(redis)} (prefix '${prefix}'); API docs at ${host.url}/docs`);
  // A parent process (the demo, tests) learns that the host is ready.
  process.send?.({ type: 'listening', url: host.url });
} catch (error) {
  process.stderr.write(`Broker host failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
