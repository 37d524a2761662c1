import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';

/** Loads with `load`, again whenever `deps` change and every `refreshMs` when given. */
export function useData<T>(load: () => Promise<T>, deps: unknown[], refreshMs?: number) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [version, setVersion] = useState(0);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  useEffect(() => {
    let live = true;
    const run = () =>
      load().then(
        (value) => {
          if (!live) return;
          setData(value);
          setError(undefined);
        },
        (failure: Error) => live && setError(failure),
      );
    void run();
    const timer = refreshMs === undefined ? undefined : setInterval(run, refreshMs);
    return () => {
      live = false;
      if (timer !== undefined) clearInterval(timer);
    };
  }, [...deps, version]);
  return { data, error, reload };
}

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (error === undefined) return null;
  const code = error instanceof ApiError ? `${error.code}: ` : '';
  return (
    <p class="error" role="alert">
      {code}
      {error.message}
    </p>
  );
}

export interface Column<R> {
  title: string;
  cell: (row: R) => ComponentChildren;
  numeric?: boolean;
}

export function Table<R>({ rows, columns, rowKey, caption, onSelect, selected }: {
  rows: R[];
  columns: Array<Column<R>>;
  rowKey: (row: R) => string;
  caption?: string;
  onSelect?: (row: R) => void;
  selected?: string | null;
}) {
  return (
    <table>
      {caption === undefined ? null : <caption>{caption}</caption>}
      <thead>
        <tr>
          {columns.map((column) => (
            <th scope="col" class={column.numeric ? 'num' : undefined}>
              {column.title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={columns.length} class="empty">
              Nothing here.
            </td>
          </tr>
        ) : (
          rows.map((row) => (
            <tr
              key={rowKey(row)}
              class={selected === rowKey(row) ? 'selected' : onSelect ? 'clickable' : undefined}
              tabIndex={onSelect ? 0 : undefined}
              onClick={onSelect ? () => onSelect(row) : undefined}
              onKeyDown={onSelect ? (event) => (event.key === 'Enter' || event.key === ' ') && (event.preventDefault(), onSelect(row)) : undefined}
            >
              {columns.map((column) => (
                <td class={column.numeric ? 'num' : undefined}>{column.cell(row)}</td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (value < 60) return `${value.toFixed(value < 10 ? 1 : 0)} s`;
  if (value < 3_600) return `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
  return `${(value / 3_600).toFixed(1)} h`;
}

export function num(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toLocaleString('en');
}

/** A message value: JSON pretty-printed, text as is, bytes as hex or base64 (switchable). */
export function ValueView({ value, format }: { value: unknown; format: 'text' | 'json' | 'base64' }) {
  const [bytesAs, setBytesAs] = useState<'hex' | 'base64'>('hex');
  if (format === 'base64') {
    const bytes = Uint8Array.from(atob(String(value)), (char) => char.charCodeAt(0));
    const shown = bytesAs === 'base64' ? String(value) : Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
    return (
      <div>
        <div class="toolbar">
          <span class="badge">binary, {bytes.length} bytes</span>
          <button type="button" onClick={() => setBytesAs(bytesAs === 'hex' ? 'base64' : 'hex')}>
            Show as {bytesAs === 'hex' ? 'base64' : 'hex'}
          </button>
        </div>
        <pre class="value">{shown}</pre>
      </div>
    );
  }
  return <pre class="value">{format === 'json' ? JSON.stringify(value, null, 2) : String(value)}</pre>;
}

/** A modal confirmation that shows what will change before it changes. */
export function Confirm({ title, children, confirmLabel, onConfirm, onCancel, busy }: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
    return () => ref.current?.close();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={(event) => (event.preventDefault(), onCancel())}>
      <h2 id="confirm-title">{title}</h2>
      {children}
      <div class="toolbar end">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" disabled={busy} onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
    </label>
  );
}
