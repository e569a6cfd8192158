// `make demo`'s Prometheus (Debian's package, the same binary whose promtool
// tests the rules): it scrapes the demo's controller and agents and evaluates
// the shipped alert rules (config/prometheus/monitor/prometheus_rule.yaml), so
// a newcomer sees the crash-loop example's alert go pending, then fire. The
// jobs carry the metrics Services' names, which the rules use, as the
// ServiceMonitors give them in a cluster.
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import { repoRoot } from '../test/harness/binaries.js';
import { ManagedProcess, freePort, waitFor } from '../test/harness/process.js';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface DemoPrometheus {
  url: string;
  proc: ManagedProcess;
}

/** The PrometheusRule's groups, as a rule file. */
export function ruleFile(): string {
  const rule = loadYaml<{ spec: { groups: unknown[] } }>(
    readFileSync(path.join(repoRoot, 'config', 'prometheus', 'monitor', 'prometheus_rule.yaml'), 'utf8'),
  );
  return dumpYaml(rule.spec);
}

export async function startPrometheus(dir: string, controllerPort: number, agentPorts: number[]): Promise<DemoPrometheus> {
  try {
    await fs.access(PROMETHEUS_BIN);
  } catch {
    throw new Error(`${PROMETHEUS_BIN} is missing: run hack/install-deps.sh (it installs Debian's prometheus package)`);
  }
  await fs.mkdir(path.join(dir, 'data'), { recursive: true });
  await fs.writeFile(path.join(dir, 'rules.yaml'), ruleFile());
  const target = (p: number) => `127.0.0.1:${p}`;
  const config = {
    global: { scrape_interval: '10s', evaluation_interval: '10s' },
    rule_files: [path.join(dir, 'rules.yaml')],
    scrape_configs: [
      { job_name: 'systemd-workload-controller-metrics', static_configs: [{ targets: [target(controllerPort)] }] },
      // honor_labels keeps the unit series' own `namespace` (the workload's), as the agent ServiceMonitor does.
      { job_name: 'systemd-workload-agent-metrics', honor_labels: true, static_configs: [{ targets: agentPorts.map(target) }] },
    ],
  };
  await fs.writeFile(path.join(dir, 'prometheus.yml'), dumpYaml(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = new ManagedProcess(
    'prometheus',
    PROMETHEUS_BIN,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    path.join(dir, 'prometheus.log'),
  );
  proc.start();
  await waitFor(
    'prometheus ready',
    async () => {
      if (!proc.running) throw new Error(`prometheus exited: see ${path.join(dir, 'prometheus.log')}`);
      const r = await fetch(`${url}/-/ready`).catch(() => undefined);
      return r?.ok ? true : undefined;
    },
    60_000,
    250,
  );
  return { url, proc };
}
