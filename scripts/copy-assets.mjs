// Copies non-TypeScript sources (Lua scripts) next to the compiled JavaScript.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const packages = ['libs/broker', 'libs/nest-adapter', 'apps/broker-host', 'apps/sample-orders'];

function copyLua(from, to) {
  for (const name of readdirSync(from)) {
    const source = join(from, name);
    if (statSync(source).isDirectory()) copyLua(source, join(to, name));
    else if (name.endsWith('.lua')) cpSync(source, join(to, name));
  }
}

for (const pkg of packages) {
  if (existsSync(join(pkg, 'src'))) copyLua(join(pkg, 'src'), join(pkg, 'dist'));
}
