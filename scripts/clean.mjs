// Removes build output of every package.
import { rmSync } from 'node:fs';

for (const pkg of ['libs/broker', 'libs/nest-adapter', 'apps/broker-host', 'apps/sample-orders']) {
  rmSync(`${pkg}/dist`, { recursive: true, force: true });
}
