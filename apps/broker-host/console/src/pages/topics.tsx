import { useState } from 'preact/hooks';
import { API, api, enc, query, type MessageView, type Session, type TopicInfo, type TopicListing } from '../api.js';
import { ErrorNote, Field, num, Table, time, useData, ValueView } from '../ui.js';

export function TopicsPage({ session, topic }: { session: Session; topic: string | undefined }) {
  return topic === undefined ? <TopicList /> : <TopicDetail topic={topic} session={session} />;
}

function TopicList() {
  const { data, error } = useData(() => api<{ topics: TopicListing[] }>(`${API}/topics`), [], 10_000);
  return (
    <section>
      <h1>Topics</h1>
      <ErrorNote error={error} />
      <Table
        rows={data?.topics ?? []}
        rowKey={(row) => row.topic}
        columns={[
          { title: 'Topic', cell: (row) => <a href={`#/topics/${enc(row.topic)}`}>{row.topic}</a> },
          { title: 'Partitions', cell: (row) => row.partitions, numeric: true },
        ]}
      />
    </section>
  );
}

function replicas(partition: TopicInfo['partitions'][number]): string {
  if (partition.replicas.length === 0) return '–';
  const status = new Map((partition.replicaStatus ?? []).map((replica) => [replica.address, replica]));
  return partition.replicas
    .map((address) => {
      const replica = status.get(address);
      if (replica === undefined) return address;
      return replica.inSync ? `${address} (in sync)` : `${address} (${replica.state}${replica.lagBytes === null ? '' : `, ${replica.lagBytes} B behind`})`;
    })
    .join(', ');
}

function TopicDetail({ topic, session }: { topic: string; session: Session }) {
  const { data, error } = useData(() => api<TopicInfo>(`${API}/topics/${enc(topic)}`), [topic], 5_000);
  const [partition, setPartition] = useState(0);
  return (
    <section>
      <p>
        <a href="#/topics">Topics</a> /
      </p>
      <h1>{topic}</h1>
      <ErrorNote error={error} />
      {data === undefined ? null : (
        <>
          <p>
            Retention: {data.retention.maxAgeMs === null ? 'no age limit' : `${num(data.retention.maxAgeMs)} ms`},{' '}
            {data.retention.maxMessages === null ? 'no count limit' : `about ${num(data.retention.maxMessages)} messages per partition`}. Created {time(data.createdAt)}.
          </p>
          <Table
            caption="Partitions"
            rows={data.partitions}
            rowKey={(row) => String(row.partition)}
            columns={[
              { title: 'Partition', cell: (row) => row.partition, numeric: true },
              { title: 'Low offset', cell: (row) => num(row.lowOffset), numeric: true },
              { title: 'High offset', cell: (row) => num(row.highOffset), numeric: true },
              { title: 'Messages', cell: (row) => num(row.highOffset - row.lowOffset), numeric: true },
              { title: 'Leader', cell: (row) => row.leader },
              { title: 'Replicas', cell: replicas },
            ]}
          />
          {session.role === 'viewer' ? (
            <p class="hint">Messages are shown to operators and admins.</p>
          ) : (
            <MessageBrowser topic={topic} partitions={data.partitions.length} partition={partition} setPartition={setPartition} low={data.partitions[partition]?.lowOffset ?? 0} />
          )}
        </>
      )}
    </section>
  );
}

function MessageBrowser({ topic, partitions, partition, setPartition, low }: { topic: string; partitions: number; partition: number; setPartition: (p: number) => void; low: number }) {
  const [from, setFrom] = useState<'offset' | 'time'>('offset');
  const [offset, setOffset] = useState('');
  const [at, setAt] = useState('');
  const [request, setRequest] = useState<{ partition: number; offset?: number; timestamp?: number }>({ partition, offset: low });
  const [openOffset, setOpenOffset] = useState<number | null>(null);
  const { data, error } = useData(
    () =>
      api<{ messages: MessageView[]; nextOffset: number }>(
        `${API}/topics/${enc(topic)}/partitions/${request.partition}/messages${query({ offset: request.offset, timestamp: request.timestamp, limit: 50 })}`,
      ),
    [topic, request],
  );
  const browse = (event: Event) => {
    event.preventDefault();
    if (from === 'time' && at !== '') setRequest({ partition, timestamp: Date.parse(at) });
    else setRequest({ partition, offset: offset === '' ? low : Number(offset) });
  };
  return (
    <>
      <h2>Messages</h2>
      <form class="toolbar" onSubmit={browse} aria-label="Browse messages">
        <Field label="Partition">
          <select value={partition} onChange={(event) => setPartition(Number(event.currentTarget.value))}>
            {Array.from({ length: partitions }, (_, p) => (
              <option value={p}>{p}</option>
            ))}
          </select>
        </Field>
        <Field label="From">
          <select value={from} onChange={(event) => setFrom(event.currentTarget.value as 'offset' | 'time')}>
            <option value="offset">offset</option>
            <option value="time">time</option>
          </select>
        </Field>
        {from === 'offset' ? (
          <Field label="Offset">
            <input type="number" min={0} value={offset} placeholder={String(low)} onInput={(event) => setOffset(event.currentTarget.value)} />
          </Field>
        ) : (
          <Field label="Time">
            <input type="datetime-local" step={1} value={at} onInput={(event) => setAt(event.currentTarget.value)} />
          </Field>
        )}
        <button type="submit">Browse</button>
        {data === undefined || data.messages.length === 0 ? null : (
          <button type="button" onClick={() => setRequest({ partition: request.partition, offset: data.nextOffset })}>
            Next page
          </button>
        )}
      </form>
      <ErrorNote error={error} />
      <Table
        rows={data?.messages ?? []}
        rowKey={(row) => String(row.offset)}
        selected={openOffset === null ? null : String(openOffset)}
        onSelect={(row) => setOpenOffset(openOffset === row.offset ? null : row.offset)}
        columns={[
          { title: 'Offset', cell: (row) => row.offset, numeric: true },
          { title: 'Time', cell: (row) => time(row.timestamp) },
          { title: 'Key', cell: (row) => row.key ?? '–' },
          { title: 'Value', cell: (row) => <span class="preview">{preview(row)}</span> },
        ]}
      />
      {data?.messages.filter((message) => message.offset === openOffset).map((message) => (
        <div class="detail" aria-label={`Message ${message.offset}`}>
          <h3>
            Offset {message.offset} · key {message.key ?? '–'}
          </h3>
          <h4>Headers</h4>
          <pre class="value">{JSON.stringify(message.headers, null, 2)}</pre>
          <h4>Value</h4>
          <ValueView value={message.value} format={message.valueFormat} />
        </div>
      ))}
    </>
  );
}

function preview(message: MessageView): string {
  const text = message.valueFormat === 'base64' ? `binary (${Math.floor((String(message.value).length * 3) / 4)} bytes)` : message.valueFormat === 'json' ? JSON.stringify(message.value) : String(message.value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
