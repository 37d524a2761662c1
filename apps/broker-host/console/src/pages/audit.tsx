import { useState } from 'preact/hooks';
import { API, api, query, type AuditEntry } from '../api.js';
import { ErrorNote, Field, Table, time, useData } from '../ui.js';

export function AuditPage() {
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [text, setText] = useState('');
  const { data, error } = useData(() => api<{ items: AuditEntry[]; nextCursor: string | null }>(`${API}/dead-letters/audit${query({ cursor, limit: 200 })}`), [cursor], 10_000);
  const needle = text.trim().toLowerCase();
  const rows = (data?.items ?? []).filter((entry) => needle === '' || JSON.stringify(entry).toLowerCase().includes(needle));
  return (
    <section>
      <h1>Audit log</h1>
      <form class="toolbar" onSubmit={(event) => event.preventDefault()} aria-label="Filter the audit log">
        <Field label="Filter">
          <input type="search" placeholder="actor, action, topic, group…" value={text} onInput={(event) => setText(event.currentTarget.value)} />
        </Field>
      </form>
      <ErrorNote error={error} />
      <Table
        rows={rows}
        rowKey={(entry) => entry.id}
        columns={[
          { title: 'When', cell: (entry) => time(entry.at) },
          { title: 'Who', cell: (entry) => entry.actor },
          { title: 'Action', cell: (entry) => entry.action },
          { title: 'Topic', cell: (entry) => entry.topic },
          { title: 'Group', cell: (entry) => entry.group },
          { title: 'To', cell: (entry) => entry.to ?? '–' },
          { title: 'Selection', cell: (entry) => (Array.isArray(entry.selection) ? `${entry.selection.length} ids` : String(entry.selection ?? '–')) },
          { title: 'Count', cell: (entry) => String((entry.result as { count?: number } | null)?.count ?? '–'), numeric: true },
        ]}
      />
      {data?.nextCursor ? (
        <button type="button" onClick={() => setCursor(data.nextCursor!)}>
          Older entries
        </button>
      ) : null}
    </section>
  );
}
