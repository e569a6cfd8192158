// What config/prometheus/monitor installs reads only what the operator exports:
// every metric name in the dashboard's queries and the alert rules' expressions
// is registered by the controller (Metrics + WorkloadMetrics) or the agent
// (Metrics + AgentMetrics), and the Helm chart's copies of both files are the same.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { AgentMetrics } from '../../../src/agent/metrics.js';
import { WorkloadMetrics } from '../../../src/controller/metrics.js';
import { Metrics } from '../../../src/observability/metrics.js';

const root = path.resolve(import.meta.dirname, '../../..');
const MONITOR = path.join(root, 'config', 'prometheus', 'monitor');
const CHART_FILES = path.join(root, 'deploy', 'helm', 'systemd-workload-operator', 'files');
/** Series Prometheus itself writes for every target. */
const SCRAPE_SERIES = ['up'];

/** The names a scrape shows for each registered metric (a histogram's _bucket, _sum and _count). */
async function exportedNames(): Promise<Set<string>> {
  const controller = new Metrics();
  new WorkloadMetrics(
    controller,
    () => [],
    () => true,
  );
  const agent = new Metrics({ node: 'n' });
  new AgentMetrics(agent);
  const names = new Set(SCRAPE_SERIES);
  for (const m of [...(await controller.registry.getMetricsAsJSON()), ...(await agent.registry.getMetricsAsJSON())]) {
    const suffixes = String(m.type) === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    for (const s of suffixes) names.add(m.name + s);
  }
  return names;
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/** The metric names a PromQL expression reads (Grafana's label_values(metric, label) included). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, ' ') // matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/label_values\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)/g, ' $1 '); // Grafana: keep the metric, not the label
  const out: string[] = [];
  for (const m of bare.matchAll(/(?<![\w.$:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    if (!KEYWORDS.has(m[1]!) && !/^(e|inf|nan)$/i.test(m[1]!)) out.push(m[1]!);
  }
  return out;
}

interface Dashboard {
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string; query?: unknown }> };
}

function dashboardQueries(): Array<[string, string]> {
  const d = JSON.parse(readFileSync(path.join(MONITOR, 'dashboard.json'), 'utf8')) as Dashboard;
  const panels = d.panels.flatMap((p) => (p.targets ?? []).map((t): [string, string] => [p.title, t.expr]));
  const variables = d.templating.list
    .filter((v) => typeof v.query === 'string' && v.query.startsWith('label_values('))
    .map((v): [string, string] => [`$${v.name}`, v.query as string]);
  return [...panels, ...variables];
}

function ruleExpressions(): Array<[string, string]> {
  const rule = loadYaml<{ spec: { groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }> } }>(
    readFileSync(path.join(MONITOR, 'prometheus_rule.yaml'), 'utf8'),
  );
  return rule.spec.groups.flatMap((g) => g.rules.map((r): [string, string] => [r.alert ?? r.record ?? '?', r.expr]));
}

/** "where: name" for each metric a query reads that the operator does not export. */
async function notExported(queries: Array<[string, string]>): Promise<string[]> {
  const exported = await exportedNames();
  return queries.flatMap(([where, q]) =>
    metricNames(q)
      .filter((n) => !exported.has(n))
      .map((n) => `${where}: ${n}`),
  );
}

describe('monitoring files', () => {
  it('metricNames reads the metrics of an expression, not its labels, functions or keywords', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, controller) (rate(a_seconds_bucket{job="x", le=~"1e3"}[5m]))) / on (job) group_left b_total > bool 1e3',
      ),
    ).toEqual(['a_seconds_bucket', 'b_total']);
    expect(metricNames('label_values(sdw_workload_phase{namespace=~"$namespace"}, workload)')).toEqual(['sdw_workload_phase']);
    expect(metricNames('absent(up{job="j"} == 1)')).toEqual(['up']);
  });

  it('every metric the dashboard queries is one the operator exports', async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThanOrEqual(10);
    expect(await notExported(queries)).toEqual([]);
    // and it shows the per-workload status, not only the process internals
    const used = new Set(queries.flatMap(([, q]) => metricNames(q)));
    for (const n of [
      'sdw_workload_phase',
      'sdw_workload_nodes_desired',
      'sdw_workload_nodes_ready',
      'sdw_workload_nodes_updated',
      'sdw_workload_restarts',
    ]) {
      expect({ n, used: used.has(n) }).toEqual({ n, used: true });
    }
  });

  it('every metric the alert rules read is one the operator exports', async () => {
    const exprs = ruleExpressions();
    expect(exprs.length).toBe(7);
    expect(await notExported(exprs)).toEqual([]);
  });

  it("the Helm chart's files/ are config/prometheus/monitor's (cp them after an edit)", () => {
    for (const f of ['dashboard.json', 'prometheus_rule.yaml']) {
      expect({ f, same: readFileSync(path.join(CHART_FILES, f), 'utf8') === readFileSync(path.join(MONITOR, f), 'utf8') }).toEqual({
        f,
        same: true,
      });
    }
  });
});
