// The alert rules of config/prometheus/monitor, checked and unit-tested by
// Prometheus' own promtool against recorded series (alerts.promtool.yaml): each
// alert fires when it should, with the labels and text on-call reads, and stays
// quiet on the healthy series beside it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dumpYaml, loadYaml } from '@kubernetes/client-node';
import { repoRoot } from '../../harness/binaries.js';

const RULE_FILE = path.join(repoRoot, 'config', 'prometheus', 'monitor', 'prometheus_rule.yaml');
const TEST_FILE = path.join(repoRoot, 'test', 'integration', 'monitoring', 'alerts.promtool.yaml');

function promtool(args: string[]): { code: number | null; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is missing (${r.error.message}): Debian's prometheus package ships it; run hack/install-deps.sh`);
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('the PrometheusRule, by promtool', () => {
  let dir: string;
  beforeAll(() => {
    // promtool reads a plain rules file: the PrometheusRule's spec.
    dir = mkdtempSync(path.join(os.tmpdir(), 'sdw-rules-'));
    const rule = loadYaml<{ kind: string; spec: unknown }>(readFileSync(RULE_FILE, 'utf8'));
    expect(rule.kind).toBe('PrometheusRule');
    writeFileSync(path.join(dir, 'prometheus_rules.yaml'), dumpYaml(rule.spec));
    copyFileSync(TEST_FILE, path.join(dir, 'alerts.promtool.yaml'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('promtool check rules accepts every rule', () => {
    expect(promtool(['check', 'rules', path.join(dir, 'prometheus_rules.yaml')])).toEqual({
      code: 0,
      out: expect.stringContaining('SUCCESS: 7 rules found'),
    });
  });

  it('promtool test rules: each alert fires on its recorded series, and only there', () => {
    expect(promtool(['test', 'rules', path.join(dir, 'alerts.promtool.yaml')])).toEqual({
      code: 0,
      out: expect.stringContaining('SUCCESS'),
    });
  });

  it('every alert the rules define has a test case', () => {
    const alerts = [...readFileSync(RULE_FILE, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]).sort();
    const tested = new Set([...readFileSync(TEST_FILE, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
    expect(alerts.length).toBe(7);
  });
});
