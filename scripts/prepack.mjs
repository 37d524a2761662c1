// `prepack` of a package (run by `npm pack` / `npm publish` in libs/<name> and apps/broker-host): removes the package's
// dist, compiles it with `tsc -b` (which also brings referenced libraries up to date) and copies
// its Lua scripts next to the JavaScript, so the tarball never holds stale or missing files.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const pkg = process.cwd();
rmSync(join(pkg, 'dist'), { recursive: true, force: true });
const tsc = createRequire(join(pkg, 'package.json')).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-b', join(pkg, 'tsconfig.json')], { stdio: 'inherit' });

function copyLua(from, to) {
  for (const name of readdirSync(from)) {
    const source = join(from, name);
    if (statSync(source).isDirectory()) copyLua(source, join(to, name));
    else if (name.endsWith('.lua')) cpSync(source, join(to, name));
  }
}
if (existsSync(join(pkg, 'src'))) copyLua(join(pkg, 'src'), join(pkg, 'dist'));

// The broker host's console: a static bundle built by Vite into dist/ui.
const consoleConfig = join(pkg, 'console', 'vite.config.ts');
if (existsSync(consoleConfig)) {
  const vite = join(createRequire(join(pkg, 'package.json')).resolve('vite/package.json'), '..', 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', consoleConfig], { stdio: 'inherit' });
}
