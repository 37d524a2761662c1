import { useState } from 'preact/hooks';
import { allows, API, api, enc, query, type DeadLetterView, type GroupListing, type Session } from '../api.js';
import { Confirm, ErrorNote, Field, Table, time, useData, ValueView } from '../ui.js';

const REASONS = ['handler-error', 'non-retriable', 'undecodable', 'validation', 'timeout', 'operator'];

export interface DeadLetterFilter {
  topic: string;
  group: string;
  reason: string;
  errorText: string;
  key: string;
  from: string;
  to: string;
}

/** The search filter as the API takes it (times as epoch milliseconds); empty when nothing narrows it. */
function searchFilter(filter: DeadLetterFilter) {
  const search = {
    reason: filter.reason || undefined,
    errorMessage: filter.errorText || undefined,
    key: filter.key || undefined,
    from: filter.from === '' ? undefined : Date.parse(filter.from),
    to: filter.to === '' ? undefined : Date.parse(filter.to),
  };
  return Object.fromEntries(Object.entries(search).filter(([, value]) => value !== undefined));
}

type Action = { kind: 'replay'; to: 'group' | 'topic' } | { kind: 'purge' };

interface Preview {
  matched: number;
  complete?: boolean;
  sample: DeadLetterView[];
}

interface ReplayJob {
  id: string;
  state: 'running' | 'done' | 'cancelled';
  matched: number;
  replayed: number;
  parked: number;
}

export function DeadLettersPage({ session }: { session: Session }) {
  const groups = useData(() => api<{ groups: GroupListing[] }>(`${API}/groups`), []);
  const [draft, setDraft] = useState<DeadLetterFilter>({ topic: '', group: '', reason: '', errorText: '', key: '', from: '', to: '' });
  const [filter, setFilter] = useState<DeadLetterFilter | null>(null);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<string | null>(null);
  const [pending, setPending] = useState<{ action: Action; preview: Preview } | null>(null);
  const [outcome, setOutcome] = useState<string | undefined>(undefined);
  const [job, setJob] = useState<ReplayJob | null>(null);
  const [failure, setFailure] = useState<Error | undefined>(undefined);
  const canAct = allows(session, 'operator');
  const page = useData(
    () =>
      filter === null || session.role === 'viewer'
        ? Promise.resolve(undefined)
        : api<{ items: DeadLetterView[]; nextCursor: string | null }>(`${API}/dead-letters${query({ topic: filter.topic, group: filter.group, ...searchFilter(filter), cursor, limit: 50 })}`),
    [filter, cursor],
  );
  const counts = useData(() => api<{ total: number; byTopicAndGroup: Array<{ topic: string; group: string; count: number }> }>(`${API}/dead-letters/count`), [outcome], 10_000);
  const pairs = (groups.data?.groups ?? []).flatMap((group) => group.topics.map((topic) => ({ group: group.group, topic })));
  const search = (event: Event) => {
    event.preventDefault();
    setSelected(new Set());
    setCursor(undefined);
    setOpen(null);
    setFilter({ ...draft });
  };
  const selection = () => {
    const scope = { topic: filter!.topic, group: filter!.group };
    if (selected.size > 0) return { ...scope, ids: [...selected] };
    const search = searchFilter(filter!);
    return Object.keys(search).length === 0 ? { ...scope, all: true } : { ...scope, filter: search };
  };
  const dryRun = async (action: Action) => {
    setFailure(undefined);
    try {
      const answer = await api<Preview>(`${API}/dead-letters/${action.kind}`, {
        method: 'POST',
        body: { ...selection(), ...(action.kind === 'replay' ? { to: action.to } : {}), dryRun: true },
      });
      setPending({ action, preview: answer });
    } catch (error) {
      setFailure(error as Error);
    }
  };
  const execute = async () => {
    if (pending === null) return;
    const { action } = pending;
    try {
      const answer = await api<{ replayed?: number; purged?: number; missing?: string[]; parked?: string[]; job?: ReplayJob | null }>(`${API}/dead-letters/${action.kind}`, {
        method: 'POST',
        body: { ...selection(), ...(action.kind === 'replay' ? { to: action.to } : {}) },
      });
      if (answer.job) {
        setJob(answer.job);
        void follow(answer.job.id);
      }
      setOutcome(
        action.kind === 'purge'
          ? `Purged ${answer.purged ?? 0} dead letters.`
          : answer.job
            ? `Replay job ${answer.job.id} started.`
            : `Replayed ${answer.replayed ?? 0} dead letters to the ${action.to}${answer.parked?.length ? `; ${answer.parked.length} parked by the replay cap` : ''}.`,
      );
      setSelected(new Set());
      page.reload();
    } catch (error) {
      setFailure(error as Error);
    } finally {
      setPending(null);
    }
  };
  const follow = async (id: string) => {
    for (;;) {
      const current = await api<ReplayJob>(`${API}/dead-letters/replays/${enc(id)}`).catch(() => null);
      if (current === null) return;
      setJob(current);
      if (current.state !== 'running') return page.reload();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const items = page.data?.items ?? [];
  const letter = items.find((item) => item.id === open);
  return (
    <section>
      <h1>Dead letters</h1>
      <Table
        caption="Dead letters by topic and group"
        rows={counts.data?.byTopicAndGroup ?? []}
        rowKey={(row) => `${row.topic} ${row.group}`}
        onSelect={(row) => setDraft({ ...draft, topic: row.topic, group: row.group })}
        columns={[
          { title: 'Topic', cell: (row) => row.topic },
          { title: 'Group', cell: (row) => row.group },
          { title: 'Dead letters', cell: (row) => row.count, numeric: true },
        ]}
      />
      {session.role === 'viewer' ? (
        <p class="hint">Dead letters hold payloads: operators and admins can open them.</p>
      ) : (
        <form class="filters" onSubmit={search} aria-label="Filter dead letters">
          <Field label="Topic and group">
            <select
              required
              value={draft.topic === '' ? '' : `${draft.topic}\u0000${draft.group}`}
              onChange={(event) => {
                const [topic, group] = event.currentTarget.value.split('\u0000');
                setDraft({ ...draft, topic: topic ?? '', group: group ?? '' });
              }}
            >
              <option value="">choose…</option>
              {pairs.map((pair) => (
                <option value={`${pair.topic}\u0000${pair.group}`}>
                  {pair.topic} · {pair.group}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Reason">
            <select value={draft.reason} onChange={(event) => setDraft({ ...draft, reason: event.currentTarget.value })}>
              <option value="">any</option>
              {REASONS.map((reason) => (
                <option value={reason}>{reason}</option>
              ))}
            </select>
          </Field>
          <Field label="Error text">
            <input value={draft.errorText} onInput={(event) => setDraft({ ...draft, errorText: event.currentTarget.value })} />
          </Field>
          <Field label="Key">
            <input value={draft.key} onInput={(event) => setDraft({ ...draft, key: event.currentTarget.value })} />
          </Field>
          <Field label="Failed from">
            <input type="datetime-local" step={1} value={draft.from} onInput={(event) => setDraft({ ...draft, from: event.currentTarget.value })} />
          </Field>
          <Field label="Failed until">
            <input type="datetime-local" step={1} value={draft.to} onInput={(event) => setDraft({ ...draft, to: event.currentTarget.value })} />
          </Field>
          <button type="submit">Search</button>
        </form>
      )}
      <ErrorNote error={page.error ?? failure} />
      {outcome === undefined ? null : <p role="status">{outcome}</p>}
      {job === null ? null : (
        <div role="status" aria-label="Replay job">
          Replay job {job.id}: {job.state}, {job.replayed} of {job.matched} replayed{job.parked > 0 ? `, ${job.parked} parked` : ''}
          <progress max={Math.max(job.matched, 1)} value={job.replayed}>
            {job.replayed} of {job.matched}
          </progress>
        </div>
      )}
      {filter === null || session.role === 'viewer' ? null : (
        <>
          {canAct ? (
            <div class="toolbar" aria-label="Actions">
              <span>{selected.size > 0 ? `${selected.size} selected` : 'Everything the filter matches'}</span>
              <button type="button" onClick={() => dryRun({ kind: 'replay', to: 'group' })}>
                Replay to group…
              </button>
              <button type="button" onClick={() => dryRun({ kind: 'replay', to: 'topic' })}>
                Replay to topic…
              </button>
              {allows(session, 'admin') ? (
                <button type="button" class="danger" onClick={() => dryRun({ kind: 'purge' })}>
                  Purge…
                </button>
              ) : null}
            </div>
          ) : null}
          <Table
            rows={items}
            rowKey={(row) => row.id}
            selected={open}
            onSelect={(row) => setOpen(open === row.id ? null : row.id)}
            columns={[
              {
                title: 'Select',
                cell: (row) => (
                  <input type="checkbox" aria-label={`Select ${row.id}`} checked={selected.has(row.id)} onClick={(event) => event.stopPropagation()} onChange={() => toggle(row.id)} />
                ),
              },
              { title: 'Partition', cell: (row) => row.partition, numeric: true },
              { title: 'Offset', cell: (row) => row.offset, numeric: true },
              { title: 'Key', cell: (row) => row.message.key ?? '–' },
              { title: 'Reason', cell: (row) => (row.parked ? <span class="badge warn">parked · {row.reason}</span> : row.reason) },
              { title: 'Error', cell: (row) => <span class="preview">{`${row.error.name}: ${row.error.message}`}</span> },
              { title: 'Attempts', cell: (row) => row.attempts, numeric: true },
              { title: 'Last failure', cell: (row) => time(row.lastFailureAt) },
            ]}
          />
          {page.data?.nextCursor ? (
            <button type="button" onClick={() => setCursor(page.data!.nextCursor!)}>
              Next page
            </button>
          ) : null}
          {letter === undefined ? null : (
            <div class="detail" aria-label="Dead letter">
              <h2>
                {letter.topic}/{letter.partition}@{letter.offset}
              </h2>
              <dl>
                <dt>Group</dt>
                <dd>{letter.group}</dd>
                <dt>Handler</dt>
                <dd>{letter.handler}</dd>
                <dt>Reason</dt>
                <dd>
                  {letter.reason}
                  {letter.parked ? ' (parked: left out of replays unless forced)' : ''}
                </dd>
                <dt>Attempts</dt>
                <dd>{letter.attempts}</dd>
                <dt>First failure</dt>
                <dd>{time(letter.firstFailureAt)}</dd>
                <dt>Last failure</dt>
                <dd>{time(letter.lastFailureAt)}</dd>
                <dt>Key</dt>
                <dd>{letter.message.key ?? '–'}</dd>
              </dl>
              <h3>Error</h3>
              <pre class="value">
                {letter.error.name}: {letter.error.message}
              </pre>
              {letter.error.stack === null ? null : (
                <>
                  <h3>Stack</h3>
                  <pre class="value">{letter.error.stack}</pre>
                </>
              )}
              <h3>Headers</h3>
              <pre class="value">{JSON.stringify(letter.message.headers, null, 2)}</pre>
              <h3>Payload</h3>
              <ValueView value={letter.message.value} format={letter.message.valueFormat} />
            </div>
          )}
        </>
      )}
      {pending === null ? null : (
        <Confirm
          title={pending.action.kind === 'purge' ? 'Purge dead letters?' : `Replay dead letters to the ${pending.action.to}?`}
          confirmLabel={pending.action.kind === 'purge' ? 'Purge' : 'Replay'}
          onConfirm={execute}
          onCancel={() => setPending(null)}
        >
          <p data-testid="dry-run">
            Dry run: {pending.preview.matched}
            {pending.preview.complete === false ? ' or more' : ''} dead letter{pending.preview.matched === 1 ? '' : 's'} match. Nothing has changed yet.
          </p>
          <Table
            caption="Sample"
            rows={pending.preview.sample ?? []}
            rowKey={(row) => row.id}
            columns={[
              { title: 'Offset', cell: (row) => `${row.partition}@${row.offset}` },
              { title: 'Key', cell: (row) => row.message?.key ?? '–' },
              { title: 'Error', cell: (row) => row.error?.message ?? '' },
            ]}
          />
        </Confirm>
      )}
    </section>
  );
}
