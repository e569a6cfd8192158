// Import round trips (issue 16): real crontabs of Debian packages and the
// timers of this machine go through `kubectl sdw import` -> admission
// (kubectl apply --dry-run=server against a real API server with the CRDs) ->
// render, and the rendered timers must fire when the source did:
//   crontab line:  robfig/cron (Kubernetes CronJob) on the source schedule
//                  vs systemd-analyze calendar on the rendered OnCalendar= lines;
//   .timer file:   systemd-analyze on the source OnCalendar= vs on the rendered.
// 50 fire times from bases just before a day, a month and a year boundary.
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import type { SystemdWorkload } from '../../../src/api/types.js';
import { ANNOTATION_IMPORTED_FROM } from '../../../src/migrate/job.js';
import { render } from '../../../src/render/unit.js';
import { repoRoot } from '../../harness/binaries.js';
import { runCli } from '../../harness/cliHelpers.js';
import { cronOracle } from '../../harness/cronOracle.js';
import { sharedNamespace, type SharedNamespace } from '../../harness/sharedCluster.js';

const N = 50;
const BASES = ['2026-12-31T23:50:00Z', '2027-02-28T23:50:00Z', '2027-06-30T22:10:00Z'].map((s) => new Date(s));
const SYSTEMD_UNITS = '/lib/systemd/system';

function systemdAnalyze(calendars: string[], base: Date): string[] {
  const baseText = base
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  const all = new Set<string>();
  for (const cal of calendars) {
    const out = execFileSync('systemd-analyze', ['calendar', `--base-time=${baseText}`, `--iterations=${N}`, cal], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    });
    for (const m of out.matchAll(/^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$/gm)) {
      all.add(`${m[1]!.replace(' ', 'T')}Z`);
    }
  }
  return [...all].sort().slice(0, N);
}

function renderedCalendars(w: SystemdWorkload): string[] {
  const files = render(w, 'node').units.flatMap((u) => u.files);
  const timer = files.find((f) => f.name.endsWith('.timer'));
  if (!timer) throw new Error(`${w.metadata.name}: no timer rendered`);
  return [...timer.content.matchAll(/^OnCalendar=(.*)$/gm)].map((m) => m[1]!);
}

/** Imports with the real CLI, applies the YAML with --dry-run=server, returns the workloads. */
async function importAndAdmit(ns: SharedNamespace, args: string[]): Promise<{ workloads: SystemdWorkload[]; stderr: string }> {
  const r = await runCli(['import', ...args, '-n', ns.namespace]);
  if (r.code !== 0) throw new Error(`kubectl sdw import ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  const applied = await ns.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: r.stdout });
  expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });
  const workloads = loadAllYaml(r.stdout) as SystemdWorkload[];
  expect(applied.stdout.trim().split('\n')).toHaveLength(workloads.length);
  return { workloads, stderr: r.stderr };
}

// The CRDs and a namespace of its own: the worker's shared control plane will do.
let ns: SharedNamespace;
let crontabDir: string;

beforeAll(async () => {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('systemd-analyze is missing: apt-get install systemd (hack/install-deps.sh does)');
  }
  crontabDir = execFileSync(path.join(repoRoot, 'hack', 'migrate', 'debian-crontabs.sh'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  ns = await sharedNamespace('migrate', { crds: true });
});

afterAll(async () => {
  await ns?.release();
});

test('every /etc/cron.d line of Debian packages imports, is admitted, and fires when robfig says', async () => {
  const files = (await fs.readdir(crontabDir)).filter((f) => !f.startsWith('.')).sort();
  expect(files.length).toBeGreaterThanOrEqual(7);
  let lines = 0;
  let compared = 0;
  for (const f of files) {
    const file = path.join(crontabDir, f);
    const source = (await fs.readFile(file, 'utf8')).split('\n');
    const { workloads } = await importAndAdmit(ns, ['cron.d', file]);
    for (const w of workloads) {
      lines++;
      const at = Number(w.metadata.annotations![ANNOTATION_IMPORTED_FROM]!.split(':').pop());
      const sourceSchedule = source[at - 1]!.trim().split(/\s+/).slice(0, 5).join(' ');
      const u = w.spec.units[0]!;
      expect(u.user).toBe('root');
      const calendars = renderedCalendars(w);
      for (const base of BASES) {
        const oracle = cronOracle(sourceSchedule, base, u.timeZone ?? 'UTC', N);
        if (!oracle.ok) throw new Error(`${file}:${at}: robfig refuses '${sourceSchedule}': ${oracle.error}`);
        const want = oracle.times.map((t) => t.toISOString().replace(/\.\d{3}Z$/, 'Z'));
        expect({ line: `${f}:${at}`, calendars, base, times: systemdAnalyze(calendars, base) }).toEqual({
          line: `${f}:${at}`,
          calendars,
          base,
          times: want,
        });
        compared++;
      }
    }
  }
  console.log(
    `MIGRATE-RESULT: ${files.length} Debian cron.d files, ${lines} job lines imported and admitted, ${compared} (line, base) pairs x ${N} fire times equal to robfig`,
  );
  expect(lines).toBeGreaterThanOrEqual(9);
});

test('an imported crontab applied for real exports back from the API server to its own lines', async () => {
  const file = path.join(crontabDir, 'sysstat_sysstat');
  const r = await runCli(['import', 'cron.d', file, '-n', ns.namespace, '--one-workload', 'sysstat']);
  expect(r.code).toBe(0);
  await ns.kubectlOk(['apply', '-f', '-'], { input: r.stdout });
  const exported = await runCli(['export', 'sysstat', '-n', ns.namespace, '--format', 'crontab'], { kubeconfig: ns.kubeconfigPath });
  expect({ code: exported.code, stderr: exported.stderr }).toEqual({ code: 0, stderr: '' });
  const jobLines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const source = jobLines(await fs.readFile(file, 'utf8')).map((l) => l.replace(/\s+/g, ' '));
  // The source's PATH line and both job lines, in order (SHELL=/bin/sh is cron's default, not repeated).
  expect(jobLines(exported.stdout)).toEqual(source);
});

test("this machine's timers import with their services, are admitted, and fire when the source OnCalendar= did", async () => {
  const timers = (await fs.readdir(SYSTEMD_UNITS)).filter((f) => f.endsWith('.timer') && !f.includes('@')).sort();
  const pairs = timers.filter((t) => fileExists(path.join(SYSTEMD_UNITS, t.replace(/\.timer$/, '.service'))));
  expect(pairs.length).toBeGreaterThanOrEqual(4);
  const args = pairs.flatMap((t) => [path.join(SYSTEMD_UNITS, t), path.join(SYSTEMD_UNITS, t.replace(/\.timer$/, '.service'))]);
  const { workloads, stderr } = await importAndAdmit(ns, ['unit', '--allow-unsupported', ...args]);
  let compared = 0;
  let scheduled = 0;
  for (const w of workloads) {
    const from = w.metadata.annotations![ANNOTATION_IMPORTED_FROM]!;
    if (!from.includes('.timer:')) continue;
    scheduled++;
    const [timerFile, line] = from.split(':') as [string, string];
    const sourceCalendar = /^OnCalendar=(.*)$/.exec((await fs.readFile(timerFile, 'utf8')).split('\n')[Number(line) - 1]!.trim())![1]!;
    const calendars = renderedCalendars(w);
    for (const base of BASES) {
      expect({ timerFile, calendars, times: systemdAnalyze(calendars, base) }).toEqual({
        timerFile,
        calendars,
        times: systemdAnalyze([sourceCalendar], base),
      });
      compared++;
    }
  }
  // A timer the import could not carry is reported with its file, never dropped.
  const refused = pairs.filter(
    (t) => !workloads.some((w) => w.metadata.annotations![ANNOTATION_IMPORTED_FROM]!.startsWith(path.join(SYSTEMD_UNITS, t))),
  );
  for (const t of refused) expect(stderr).toContain(path.join(SYSTEMD_UNITS, t));
  const unsupported = stderr.split('\n').filter((l) => l.includes(': unsupported: ')).length;
  console.log(
    `MIGRATE-RESULT: ${pairs.length} timers of ${SYSTEMD_UNITS} with their services: ${scheduled} imported as scheduled units and admitted, ${compared} (timer, base) pairs x ${N} fire times equal to the source's; ${refused.length} timers not convertible (${refused.join(', ')}); ${unsupported} directives reported unsupported`,
  );
  expect(scheduled).toBeGreaterThanOrEqual(4);
});

function fileExists(p: string): boolean {
  return existsSync(p);
}
