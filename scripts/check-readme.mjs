// Type-checks every ```ts block of README.md against the packages' sources: each block becomes a
// module of its own; the names a block uses without defining them (an `admin`, a `db`, a DTO class)
// are declared once in readme-globals.d.ts. Blocks that are methods of a class (they start with a
// decorator) are checked inside one. Prints each error with its README line.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'node_modules', '.readme-check');
const readme = readFileSync(join(root, 'README.md'), 'utf8').split('\n');

const blocks = [];
for (let i = 0; i < readme.length; i++) {
  if (readme[i].trim() !== '```ts') continue;
  const start = i + 1;
  let end = start;
  while (end < readme.length && readme[end].trim() !== '```') end++;
  blocks.push({ line: start + 1, code: readme.slice(start, end) });
  i = end;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const offsets = new Map();
blocks.forEach(({ line, code }, n) => {
  const method = /^\s*@/.test(code.find((l) => l.trim() !== '') ?? '');
  // The class's own members (an injected `db`, `health`, `brook`) are what the text says they are.
  const head = method ? ['export class ReadmeSnippet {', '  [member: string]: any;'] : [];
  const tail = method ? ['}'] : [];
  const file = `block-${String(n).padStart(2, '0')}.ts`;
  writeFileSync(join(out, file), [...head, ...code, ...tail, 'export {};', ''].join('\n'));
  offsets.set(file, { readmeLine: line, shift: head.length });
});
writeFileSync(join(out, 'readme-globals.d.ts'), readFileSync(join(root, 'scripts', 'readme-globals.d.ts'), 'utf8'));
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    extends: '../../tsconfig.base.json',
    compilerOptions: { composite: false, declaration: false, declarationMap: false, noEmit: true, noUnusedLocals: false, customConditions: ['@brook/source'], rootDir: '.' },
    include: ['*.ts'],
  }),
);

try {
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(out, 'tsconfig.json')], { stdio: 'pipe' });
  console.log(`README: ${blocks.length} TypeScript blocks compile.`);
} catch (error) {
  const text = String(error.stdout ?? '') + String(error.stderr ?? '');
  for (const line of text.split('\n')) {
    const match = /(block-\d+\.ts)\((\d+),(\d+)\): (.*)/.exec(line);
    if (!match) {
      if (line.trim() !== '') console.error(line);
      continue;
    }
    const { readmeLine, shift } = offsets.get(match[1]);
    console.error(`README.md:${readmeLine + Number(match[2]) - 1 - shift}:${match[3]} ${match[4]}`);
  }
  process.exitCode = 1;
}
