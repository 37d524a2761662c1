import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/brook.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server.js';
import { topicWithDeadLetters } from './fixtures.js';
import { startTestHost, TOKENS } from './host.js';

const RULES = new URL('../../deploy/prometheus/brook.rules.yml', import.meta.url);
const DASHBOARD = new URL('../../deploy/grafana/brook-dashboard.json', import.meta.url);

/** The PromQL expressions of the rules file (one-line `expr:` values) and of every dashboard panel. */
async function expressions(): Promise<{ rules: string[]; dashboard: string[] }> {
  const rules = [...(await readFile(RULES, 'utf8')).matchAll(/^\s+expr: (.+)$/gm)].map((match) => match[1].trim());
  const panels = (JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> }).panels;
  return { rules, dashboard: panels.flatMap((panel) => panel.targets.map((target) => target.expr)) };
}

/** Metric names in PromQL: Brook's, and Prometheus's own `up`. Label values in quotes are left out. */
function metricNames(expr: string): string[] {
  return [...expr.replace(/"[^"]*"/g, '""').matchAll(/\b(brook_[a-z0-9_]+|up)\b/g)].map((match) => match[1]);
}

let prometheus: PrometheusServer | undefined;
afterEach(async () => {
  await prometheus?.stop();
  prometheus = undefined;
});

describe('alerting rules and dashboard against a real Prometheus', () => {
  it('scrapes a host on loopback, loads the rules, and finds every metric the rules and the dashboard use', async () => {
    const host = await startTestHost({ lagSampleIntervalMs: 100 });
    // A group with dead letters and counters, so every per-group series exists.
    await topicWithDeadLetters(host.brook, { partitions: 2, failing: 1, passing: 1 });
    const { rules, dashboard } = await expressions();
    expect(rules.length).toBeGreaterThanOrEqual(4);
    expect(dashboard.length).toBeGreaterThanOrEqual(10);
    const used = [...new Set([...rules, ...dashboard].flatMap(metricNames))].sort();
    expect(used).toEqual(expect.arrayContaining(['brook_controller_leader', 'brook_group_lag_seconds', 'brook_messages_dead_lettered_total', 'brook_up', 'up']));

    prometheus = await startPrometheus({ target: new URL(host.url).host, token: TOKENS.viewer, ruleFiles: [RULES.pathname] });
    const active = await waitFor(
      async () => {
        const { activeTargets } = await prometheus!.api<{ activeTargets: Array<{ health: string; lastError: string }> }>('/api/v1/targets');
        return activeTargets.length === 1 && activeTargets[0].health === 'up' && activeTargets[0];
      },
      { timeoutMs: 20_000, intervalMs: 100, message: 'Prometheus to scrape the host' },
    );
    expect(active.lastError).toBe('');

    // Every name has a series: nothing an alert or a panel asks for is misspelt or never exported.
    const known = await waitFor(
      async () => {
        const names = new Set(await prometheus!.api<string[]>('/api/v1/label/__name__/values'));
        return used.every((name) => names.has(name)) && names;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: `every metric of the rules and dashboard to be scraped: ${used.join(', ')}` },
    );
    expect(used.filter((name) => !known.has(name))).toEqual([]);

    // Every expression is valid PromQL for this Prometheus, and the rules loaded and evaluate without errors.
    for (const expr of [...rules, ...dashboard.map((expr) => expr.replaceAll('$group', '.*'))]) await prometheus.query(expr);
    const evaluated = await waitFor(
      async () => {
        const { groups } = await prometheus!.api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('/api/v1/rules');
        const loaded = groups.flatMap((group) => group.rules);
        return loaded.length === rules.length && loaded.every((rule) => rule.health === 'ok') && loaded;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: 'the rules to evaluate' },
    );
    expect(evaluated.map((rule) => rule.name)).toContain('BrookControllerCountNotOne');
    // One host leads: the controller-count rule stays quiet once the host has won the lease.
    await waitFor(async () => ((await prometheus!.query('sum(brook_controller_leader)')) as Array<{ value: [number, string] }>)[0]?.value[1] === '1', {
      timeoutMs: 20_000,
      message: 'Prometheus to see one controller',
    });
  });
});
