import { useState } from 'preact/hooks';
import { allows, API, api, enc, type GroupListing, type GroupTopic, type Session } from '../api.js';
import { LagChart } from '../lag-chart.js';
import { Confirm, ErrorNote, Field, num, seconds, Table, useData } from '../ui.js';

export function GroupsPage({ session, group }: { session: Session; group: string | undefined }) {
  return group === undefined ? <GroupList /> : <GroupDetail group={group} session={session} />;
}

function GroupList() {
  const { data, error } = useData(() => api<{ groups: GroupListing[] }>(`${API}/groups`), [], 5_000);
  return (
    <section>
      <h1>Groups</h1>
      <ErrorNote error={error} />
      <Table
        rows={data?.groups ?? []}
        rowKey={(row) => row.group}
        columns={[
          { title: 'Group', cell: (row) => <a href={`#/groups/${enc(row.group)}`}>{row.group}</a> },
          { title: 'Kind', cell: (row) => row.kind },
          { title: 'Members', cell: (row) => row.members, numeric: true },
          { title: 'Lag', cell: (row) => num(row.lag), numeric: true },
          { title: 'Lag (time)', cell: (row) => seconds(row.lagSeconds), numeric: true },
          { title: 'Topics', cell: (row) => row.topics.join(', ') },
        ]}
      />
    </section>
  );
}

function GroupDetail({ group, session }: { group: string; session: Session }) {
  const { data, error, reload } = useData(() => api<{ group: string; kind: string; members: number; topics: GroupTopic[] }>(`${API}/groups/${enc(group)}`), [group], 5_000);
  const [deleting, setDeleting] = useState(false);
  const [force, setForce] = useState(false);
  const [failure, setFailure] = useState<Error | undefined>(undefined);
  const remove = async () => {
    try {
      await api(`${API}/groups/${enc(group)}${force ? '?force=true' : ''}`, { method: 'DELETE' });
      location.hash = '#/groups';
    } catch (problem) {
      setFailure(problem as Error);
      setDeleting(false);
    }
  };
  return (
    <section>
      <p>
        <a href="#/groups">Groups</a> /
      </p>
      <h1>{group}</h1>
      <ErrorNote error={error ?? failure} />
      {allows(session, 'admin') && data !== undefined ? (
        <div class="toolbar">
          <label class="check">
            <input type="checkbox" checked={force} onChange={(event) => setForce(event.currentTarget.checked)} /> even with live members
          </label>
          <button type="button" class="danger" onClick={() => setDeleting(true)}>
            Delete group…
          </button>
        </div>
      ) : null}
      {deleting && data !== undefined ? (
        <Confirm title={`Delete ${group}?`} confirmLabel="Delete group" onConfirm={remove} onCancel={() => setDeleting(false)}>
          <p>
            Removes every key of {group} on {data.topics.map((topic) => topic.topic).join(', ')}: positions, pending and retrying messages, dead letters, counters and lag history.
            {data.members > 0 ? ` It has ${data.members} live members${force ? '' : ': the host refuses unless "even with live members" is ticked'}.` : ''}
          </p>
        </Confirm>
      ) : null}
      {data?.topics.map((topic) => <GroupTopicView key={topic.topic} topic={topic} session={session} reload={reload} />)}
    </section>
  );
}

type Target = 'earliest' | 'latest' | 'offset' | 'timestamp';

function GroupTopicView({ topic, session, reload }: { topic: GroupTopic; session: Session; reload: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [target, setTarget] = useState<Target>('earliest');
  const [value, setValue] = useState('');
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | undefined>(undefined);
  const [failure, setFailure] = useState<Error | undefined>(undefined);
  const history = useData(
    () => api<{ samples: Array<{ at: number; lag: number | null; lagSeconds: number | null }> }>(`${API}/groups/${enc(topic.group)}/topics/${enc(topic.topic)}/lag-history`),
    [topic.group, topic.topic],
    10_000,
  );
  const body = () =>
    target === 'earliest' || target === 'latest'
      ? { to: target, force }
      : target === 'offset'
        ? { offset: Number(value), force }
        : { timestamp: Date.parse(value), force };
  const planned = (partition: GroupTopic['partitions'][number]) =>
    target === 'earliest' ? partition.lowOffset : target === 'latest' ? partition.highOffset : target === 'offset' ? Math.min(Math.max(Number(value), partition.lowOffset), partition.highOffset) : `first at ${value}`;
  const apply = async () => {
    setBusy(true);
    try {
      const answer = await api<{ partitions: Array<{ partition: number; offset: number }> }>(`${API}/groups/${enc(topic.group)}/topics/${enc(topic.topic)}/reset-offsets`, { method: 'POST', body: body() });
      setResult(`Moved ${answer.partitions.length} partitions.`);
      setFailure(undefined);
      reload();
    } catch (error) {
      setFailure(error as Error);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  const totalLag = topic.partitions.reduce((sum, partition) => sum + (partition.lag ?? 0), 0);
  return (
    <article aria-label={`${topic.group} on ${topic.topic}`}>
      <h2>
        on <a href={`#/topics/${enc(topic.topic)}`}>{topic.topic}</a> · lag {num(totalLag)}
      </h2>
      <Table
        caption="Members"
        rows={topic.members}
        rowKey={(member) => member.memberId}
        columns={[
          { title: 'Member', cell: (member) => member.memberId },
          { title: 'Client', cell: (member) => member.clientId },
          { title: 'Partitions', cell: (member) => member.partitions.join(', ') || '–' },
        ]}
      />
      <Table
        caption="Partitions"
        rows={topic.partitions}
        rowKey={(row) => String(row.partition)}
        columns={[
          { title: 'Partition', cell: (row) => row.partition, numeric: true },
          { title: 'Owner', cell: (row) => row.owner ?? '–' },
          { title: 'Committed', cell: (row) => num(row.committedOffset), numeric: true },
          { title: 'High offset', cell: (row) => num(row.highOffset), numeric: true },
          { title: 'Lag', cell: (row) => num(row.lag), numeric: true },
          { title: 'Lag (time)', cell: (row) => seconds(row.lagSeconds), numeric: true },
          { title: 'Pending', cell: (row) => num(row.pending), numeric: true },
          { title: 'Retrying', cell: (row) => num(row.retrying), numeric: true },
          { title: 'Dead letters', cell: (row) => num(row.deadLettered), numeric: true },
        ]}
      />
      <h3>Lag history</h3>
      {history.data === undefined || history.data.samples.length === 0 ? (
        <p class="hint">No samples yet: the active controller records lag every 10 s.</p>
      ) : (
        <LagChart samples={history.data.samples} label={`Lag of ${topic.group} on ${topic.topic}`} />
      )}
      {allows(session, 'admin') ? (
        <form class="toolbar" aria-label="Reset offsets" onSubmit={(event) => (event.preventDefault(), setConfirming(true))}>
          <Field label="Reset offsets to">
            <select value={target} onChange={(event) => setTarget(event.currentTarget.value as Target)}>
              <option value="earliest">earliest</option>
              <option value="latest">latest</option>
              <option value="offset">offset</option>
              <option value="timestamp">time</option>
            </select>
          </Field>
          {target === 'offset' ? (
            <Field label="Offset">
              <input type="number" min={0} required value={value} onInput={(event) => setValue(event.currentTarget.value)} />
            </Field>
          ) : target === 'timestamp' ? (
            <Field label="Time">
              <input type="datetime-local" step={1} required value={value} onInput={(event) => setValue(event.currentTarget.value)} />
            </Field>
          ) : null}
          <label class="check">
            <input type="checkbox" checked={force} onChange={(event) => setForce(event.currentTarget.checked)} /> even with live members
          </label>
          <button type="submit">Reset offsets…</button>
        </form>
      ) : null}
      {result === undefined ? null : <p role="status">{result}</p>}
      <ErrorNote error={failure} />
      {confirming ? (
        <Confirm title={`Reset ${topic.group} on ${topic.topic}?`} confirmLabel="Reset offsets" busy={busy} onConfirm={apply} onCancel={() => setConfirming(false)}>
          <p>The group will continue from these offsets{topic.members.length > 0 ? ` (it has ${topic.members.length} live members${force ? '' : ': the host refuses unless "even with live members" is ticked'})` : ''}:</p>
          <Table
            rows={topic.partitions}
            rowKey={(row) => String(row.partition)}
            columns={[
              { title: 'Partition', cell: (row) => row.partition, numeric: true },
              { title: 'Now', cell: (row) => num(row.committedOffset), numeric: true },
              { title: 'After', cell: (row) => String(planned(row)), numeric: true },
            ]}
          />
        </Confirm>
      ) : null}
    </article>
  );
}
