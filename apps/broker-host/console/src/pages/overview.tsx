import { API, api, enc, type GroupListing, type GroupTopic, type TopicInfo, type TopicListing } from '../api.js';
import { ErrorNote, num, seconds, Table, useData } from '../ui.js';

interface ClusterNode {
  id: string | null;
  address: string;
  role: 'primary' | 'replica';
  primary: string | null;
  state: string;
  slots: Array<[number, number]>;
  lagBytes: number | null;
  inSync: boolean | null;
  leads: Array<{ topic: string; partitions: number[] }>;
}

interface Overview {
  topics: TopicInfo[];
  groups: Array<GroupListing & { totalLag: number; maxLagSeconds: number | null }>;
  deadLetters: number;
  controller: { hostId: string; isLeader: boolean; leader: { holderId: string; epoch: number } | null };
  nodes: Array<{ address: string; role: string; state: string; slots: string; replication: string; leads: string[] }>;
}

async function loadOverview(): Promise<Overview> {
  const [{ topics }, { groups }, count, controller] = await Promise.all([
    api<{ topics: TopicListing[] }>(`${API}/topics`),
    api<{ groups: GroupListing[] }>(`${API}/groups`),
    api<{ total: number }>(`${API}/dead-letters/count`),
    api<Overview['controller']>(`${API}/controller`),
  ]);
  const described = await Promise.all(topics.map((topic) => api<TopicInfo>(`${API}/topics/${enc(topic.topic)}`)));
  const withLag = await Promise.all(
    groups.map(async (group) => {
      if (group.lag !== undefined) return { ...group, totalLag: group.lag ?? 0, maxLagSeconds: group.lagSeconds ?? null };
      const details = await Promise.all(group.topics.map((topic) => api<GroupTopic>(`${API}/groups/${enc(group.group)}/topics/${enc(topic)}`).catch(() => null)));
      const partitions = details.flatMap((detail) => detail?.partitions ?? []);
      const lagSeconds = partitions.map((partition) => partition.lagSeconds).filter((value): value is number => typeof value === 'number');
      return {
        ...group,
        totalLag: partitions.reduce((sum, partition) => sum + (partition.lag ?? 0), 0),
        maxLagSeconds: lagSeconds.length === 0 ? null : Math.max(...lagSeconds),
      };
    }),
  );
  const nodes = await loadNodes(described);
  return { topics: described, groups: withLag, deadLetters: count.total, controller, nodes };
}

/** Nodes from the host's cluster view when it has one, else the leaders the topics name. */
async function loadNodes(topics: TopicInfo[]): Promise<Overview['nodes']> {
  try {
    const cluster = await api<{ nodes: ClusterNode[] }>(`${API}/cluster`);
    return cluster.nodes.map((node) => ({
      address: node.address,
      role: node.role === 'replica' ? `replica of ${node.primary ?? '?'}` : 'primary',
      state: node.state,
      slots: node.slots.map(([from, to]) => (from === to ? String(from) : `${from}–${to}`)).join(', ') || '–',
      replication: node.role === 'replica' ? `${node.inSync ? 'in sync' : 'behind'}${node.lagBytes === null ? '' : `, ${num(node.lagBytes)} B behind`}` : '–',
      leads: node.leads.flatMap((lead) => lead.partitions.map((partition) => `${lead.topic}/${partition}`)),
    }));
  } catch {
    const byLeader = new Map<string, string[]>();
    for (const topic of topics) {
      for (const partition of topic.partitions) {
        const list = byLeader.get(partition.leader) ?? [];
        list.push(`${topic.topic}/${partition.partition}`);
        byLeader.set(partition.leader, list);
      }
    }
    return [...byLeader].map(([address, leads]) => ({ address, role: 'primary', state: 'online', slots: '–', replication: '–', leads }));
  }
}

export function OverviewPage() {
  const { data, error } = useData(loadOverview, [], 5_000);
  return (
    <section>
      <h1>Overview</h1>
      <ErrorNote error={error} />
      {data === undefined ? (
        <p class="loading">Loading…</p>
      ) : (
        <>
          <div class="cards">
            <div class="card">
              <span class="label">Topics</span>
              <span class="figure">{data.topics.length}</span>
              <span class="sub">{num(data.topics.reduce((sum, topic) => sum + topic.partitions.length, 0))} partitions</span>
            </div>
            <div class="card">
              <span class="label">Groups</span>
              <span class="figure">{data.groups.length}</span>
              <span class="sub">{num(data.groups.reduce((sum, group) => sum + group.members, 0))} live members</span>
            </div>
            <div class="card">
              <span class="label">Total lag</span>
              <span class="figure" data-testid="total-lag">
                {num(data.groups.reduce((sum, group) => sum + group.totalLag, 0))}
              </span>
              <span class="sub">messages not yet processed</span>
            </div>
            <div class="card">
              <span class="label">Dead letters</span>
              <span class="figure" data-testid="dead-letters">
                {num(data.deadLetters)}
              </span>
              <a class="sub" href="#/dead-letters">
                Open the inbox
              </a>
            </div>
            <div class="card">
              <span class="label">Active controller</span>
              <span class="figure small">{data.controller.leader?.holderId ?? 'none'}</span>
              <span class="sub">{data.controller.leader === null ? 'no host holds the lease' : `term ${data.controller.leader.epoch}`}</span>
            </div>
          </div>
          <h2>Redis topology</h2>
          <Table
            rows={data.nodes}
            rowKey={(node) => node.address}
            columns={[
              { title: 'Node', cell: (node) => node.address },
              { title: 'Role', cell: (node) => node.role },
              { title: 'State', cell: (node) => node.state },
              { title: 'Slots', cell: (node) => node.slots },
              { title: 'Replication', cell: (node) => node.replication },
              { title: 'Leads', cell: (node) => (node.leads.length === 0 ? '–' : `${node.leads.length} partitions: ${node.leads.slice(0, 8).join(', ')}${node.leads.length > 8 ? ', …' : ''}`) },
            ]}
          />
          <h2>Groups</h2>
          <Table
            rows={data.groups}
            rowKey={(group) => group.group}
            columns={[
              { title: 'Group', cell: (group) => <a href={`#/groups/${enc(group.group)}`}>{group.group}</a> },
              { title: 'Kind', cell: (group) => group.kind },
              { title: 'Members', cell: (group) => group.members, numeric: true },
              { title: 'Lag', cell: (group) => num(group.totalLag), numeric: true },
              { title: 'Lag (time)', cell: (group) => seconds(group.maxLagSeconds), numeric: true },
              { title: 'Topics', cell: (group) => group.topics.join(', ') },
            ]}
          />
        </>
      )}
    </section>
  );
}
