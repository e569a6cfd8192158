// Helpers for the kubectl-sdw and packaging tests: run the plugin as users do
// (a subprocess of the compiled dist/), and a minimal Helm template renderer
// (helm is not installed here) for the chart's restricted template language.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { repoRoot } from './binaries.js';

export const CLI = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cliEnv(kubeconfig: string | undefined, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete base.NODE_OPTIONS; // not the jest process's --experimental-vm-modules
  if (kubeconfig) base.KUBECONFIG = kubeconfig;
  return base;
}

/** node dist/src/cli/main.js ARGS, with KUBECONFIG; never throws on a non-zero exit. */
export function runCli(args: string[], opts: { kubeconfig?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first`);
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], {
      env: cliEnv(opts.kubeconfig, opts.env ?? {}), cwd: opts.cwd ?? repoRoot, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The plugin as a long-running process (logs -f): collects stdout. */
export function spawnCli(args: string[], opts: { kubeconfig?: string } = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(opts.kubeconfig, {}), cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

type Obj = Record<string, unknown>;

const scalar = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Block YAML of plain values (what Helm's toYaml gives for values.yaml data), each line prefixed. */
function toYaml(v: unknown, pre: string): string {
  if (Array.isArray(v)) {
    return v.map((item) => {
      if (item && typeof item === 'object') {
        const inner = toYaml(item, pre + '  ');
        return `${pre}- ${inner.slice(pre.length + 2)}`;
      }
      return `${pre}- ${scalar(item)}`;
    }).join('\n');
  }
  if (v && typeof v === 'object') {
    return Object.entries(v as Obj).map(([k, x]) => (x && typeof x === 'object' ? `${pre}${k}:\n${toYaml(x, pre + '  ')}` : `${pre}${k}: ${scalar(x)}`)).join('\n');
  }
  return pre + scalar(v);
}

function lookup(ctx: Obj, ref: string): unknown {
  let v: unknown = ctx;
  for (const k of ref.replace(/^\./, '').split('.')) v = (v as Obj | undefined)?.[k];
  return v;
}

/**
 * Renders a chart whose templates use only: {{ .Values.x.y }}, {{ .Release.Namespace }},
 * {{ .Release.Service }}, {{ .Chart.Name }} / {{ .Chart.Version }} / {{ .Chart.AppVersion }},
 * `{{- toYaml .Values.x | nindent N }}` and non-nested `{{- if .Values.x }} ... {{- end }}`.
 * Anything else throws, so the chart cannot silently outgrow this check.
 */
export function renderChart(chartDir: string, releaseNamespace: string, overrides: Obj = {}): { text: string; objects: Obj[] } {
  const values = { ...(loadAllYaml(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'))[0] as Obj), ...overrides };
  const chart = loadAllYaml(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8'))[0] as Obj;
  const ctx: Obj = {
    Values: values,
    Release: { Namespace: releaseNamespace, Service: 'Helm', Name: 'sdw' },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const out: Obj[] = [];
  const texts: string[] = [];
  const dir = path.join(chartDir, 'templates');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
    let text = readFileSync(path.join(dir, f), 'utf8');
    text = text.replace(/\{\{-? if (\.[\w.]+) \}\}([\s\S]*?)\{\{-? end \}\}/g, (_m, ref: string, body: string) => (lookup(ctx, ref) ? body : ''));
    text = text.replace(/ ?\{\{- toYaml (\.[\w.]+) \| nindent (\d+) \}\}/g, (_m, ref: string, n: string) => `\n${toYaml(lookup(ctx, ref), ' '.repeat(Number(n)))}`);
    text = text.replace(/\{\{ (\.[\w.]+) \}\}/g, (_m, ref: string) => {
      const v = lookup(ctx, ref);
      if (v === undefined) throw new Error(`${f}: ${ref} is undefined`);
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
    if (/\{\{/.test(text)) throw new Error(`${f}: template syntax the test renderer does not know: ${/\{\{.*?\}\}/.exec(text)?.[0]}`);
    texts.push(text.trim());
    out.push(...(loadAllYaml(text) as Obj[]).filter((o) => o && typeof o === 'object'));
  }
  return { text: texts.filter(Boolean).join('\n---\n') + '\n', objects: out };
}
