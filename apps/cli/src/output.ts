/** How results are printed: aligned tables for people, JSON for scripts. */
export interface Output {
  json: boolean;
  /** One JSON object per line (`--json`), or a human line. */
  line(human: string, value: unknown): void;
  /** A table (`--json`: the rows as one JSON array, or `value` when given). */
  table(rows: Array<Record<string, unknown>>, columns?: string[], value?: unknown): void;
  /** A JSON document (`--json`), or `human` lines. */
  document(value: unknown, human: () => string[]): void;
  /** Progress and notes for people: always to stderr, so stdout stays data. */
  note(text: string): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    line(human, value) {
      stdout.write(`${json ? JSON.stringify(value, jsonReplacer) : human}\n`);
    },
    table(rows, columns, value) {
      if (json) {
        stdout.write(`${JSON.stringify(value ?? rows, jsonReplacer)}\n`);
        return;
      }
      stdout.write(formatTable(rows, columns));
    },
    document(value, human) {
      stdout.write(json ? `${JSON.stringify(value, jsonReplacer)}\n` : human().map((text) => `${text}\n`).join(''));
    },
    note(text) {
      stderr.write(`${text}\n`);
    },
  };
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function formatTable(rows: Array<Record<string, unknown>>, columns = rows.length > 0 ? Object.keys(rows[0]) : []): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const numeric = columns.map((_, index) => rows.every((row) => typeof row[columns[index]] === 'number' || row[columns[index]] === null));
  const widths = columns.map((column, index) => Math.max(column.length, ...cells.map((line) => line[index].length)));
  const render = (line: string[]) =>
    line
      .map((text, index) => (numeric[index] ? text.padStart(widths[index]) : text.padEnd(widths[index])))
      .join('  ')
      .trimEnd();
  return [render(columns.map((column) => column.toUpperCase())), ...cells.map(render)].join('\n') + '\n';
}

/** A table as lines, for documents that mix a header and a table. */
export function tableLines(rows: Array<Record<string, unknown>>, columns?: string[]): string[] {
  return formatTable(rows, columns).trimEnd().split('\n');
}

/** One cell's text: null as '-', arrays comma-separated, objects as JSON, bytes as base64. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Buffer.isBuffer(value)) return `base64:${value.toString('base64')}`;
  if (Array.isArray(value)) return value.map(cell).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Bytes in JSON output as `{ "base64": "…" }`, never as Node's `{ type: 'Buffer', data: [...] }`. */
export function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown> | undefined)?.[key];
  if (Buffer.isBuffer(raw)) return { base64: raw.toString('base64') };
  return value;
}

/** A message value as text: strings as they are, JSON pretty or compact, bytes as hex or base64. */
export function formatValue(value: unknown, options: { pretty: boolean; bytes: 'base64' | 'hex' }): string {
  if (Buffer.isBuffer(value)) return options.bytes === 'hex' ? value.toString('hex') : value.toString('base64');
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, options.pretty ? 2 : undefined);
}
