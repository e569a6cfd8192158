// kubectl's habits in kubectl-sdw without a cluster: examples in every help,
// the global flags' parsing, impersonation headers and the request timeout on
// the wire (a loopback HTTP server stands in for the API server), get's output
// forms, completion's candidates, and the krew manifest.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SystemdWorkload } from '../../../src/api/types.js';
import { parseArgs } from '../../../src/cli/args.js';
import { clusterClient, hoistGlobalFlags, parseRequestTimeout } from '../../../src/cli/clusterFlags.js';
import { complete, type Lookup } from '../../../src/cli/completion.js';
import { asDocument, columnWidths, formatRow, shown, tableRows } from '../../../src/cli/get.js';
import { SUBCOMMANDS } from '../../../src/cli/rollout/index.js';
import { COMMANDS, TOP_HELP } from '../../../src/cli/spec.js';
import { krewManifest, PLATFORMS } from '../../../hack/plugin/krew.js';
import { exec } from './execCli.js';

const workload = (name: string, extra: Partial<SystemdWorkload['status']> = {}): SystemdWorkload =>
  ({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'team-a', creationTimestamp: '2026-01-01T00:00:00Z', managedFields: [{ manager: 'kubectl' }] },
    spec: { nodeSelector: { role: 'web' }, units: [{ name: 'server', command: ['/bin/true'] }] },
    status: { desiredNodes: 3, readyNodes: 2, updatedNodes: 3, restarts: 1, phase: 'Progressing', ...extra },
  }) as unknown as SystemdWorkload;

describe('help', () => {
  it('the plugin, every command and every rollout subcommand show at least one example', async () => {
    const example = (text: string, prefix: string): void =>
      expect(text).toMatch(new RegExp(`^Examples:\\n {2}(source <\\()?${prefix}`, 'm'));
    example(TOP_HELP, 'kubectl sdw ');
    for (const [name, c] of Object.entries(COMMANDS)) example(c.help, `kubectl sdw ${name}`);
    for (const [name, c] of Object.entries(SUBCOMMANDS)) example(c.help, `kubectl sdw rollout ${name}`);
    expect((await exec(['get', '--help'])).out).toContain('kubectl sdw get web -o yaml');
  });
});

describe('global flags', () => {
  it('--request-timeout takes Go durations and plain seconds, and refuses the rest', () => {
    expect(parseRequestTimeout('0')).toBe(0);
    expect(parseRequestTimeout('30')).toBe(30_000);
    expect(parseRequestTimeout('1m30s')).toBe(90_000);
    expect(parseRequestTimeout('250ms')).toBe(250);
    expect(parseRequestTimeout('2h')).toBe(7_200_000);
    for (const bad of ['', '1d', 's', '1 m', '-1s', '1m30']) expect(() => parseRequestTimeout(bad)).toThrow(/--request-timeout/);
  });

  it('global flags before the command are moved after it (rollout: after its subcommand)', () => {
    expect(hoistGlobalFlags(['--context', 'prod', '--as=alice', 'get', 'web'])).toEqual(['get', '--context', 'prod', '--as=alice', 'web']);
    expect(hoistGlobalFlags(['-n', 'x', 'rollout', 'status', 'web'])).toEqual(['rollout', 'status', '-n', 'x', 'web']);
    expect(hoistGlobalFlags(['--help'])).toEqual(['--help']);
    expect(hoistGlobalFlags(['get', '--as', 'a'])).toEqual(['get', '--as', 'a']);
  });

  it('every command that talks to the cluster takes them', () => {
    const cluster = ['get', 'status', 'logs', 'export'];
    for (const c of cluster)
      expect(Object.keys(COMMANDS[c]!.spec.flags)).toEqual(
        expect.arrayContaining(['kubeconfig', 'context', 'as', 'as-group', 'request-timeout']),
      );
    for (const c of Object.values(SUBCOMMANDS))
      expect(Object.keys(c.spec.flags)).toEqual(
        expect.arrayContaining(['namespace', 'kubeconfig', 'context', 'as', 'as-group', 'request-timeout']),
      );
  });
});

/** A stand-in API server's answers for namespace "watched": a list of one workload, then one change on the first watch. */
let watches = 0;
function watched(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  const w = (rv: string, phase: 'Progressing' | 'Running'): object => ({
    ...workload('web', { phase }),
    metadata: { name: 'web', namespace: 'watched', uid: 'u1', resourceVersion: rv },
  });
  if (!req.url!.includes('systemdworkloads')) return void res.end(JSON.stringify({ items: [], metadata: { resourceVersion: '5' } }));
  if (!req.url!.includes('watch=true'))
    return void res.end(JSON.stringify({ items: [w('5', 'Progressing')], metadata: { resourceVersion: '5' } }));
  // A watch stays open; the first one reports the workload reaching Running.
  if (watches++ === 0) res.write(JSON.stringify({ type: 'MODIFIED', object: w('6', 'Running') }) + '\n');
}

describe('impersonation and the request timeout on the wire', () => {
  let server: http.Server;
  let seen: string[][] = [];
  let kubeconfig: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.rawHeaders);
      if (req.url?.includes('hang')) return; // never answers
      if (req.url?.includes('/namespaces/watched/')) return watched(req, res);
      if (req.url?.includes('/namespaces/forbidden/')) {
        res.statusCode = 403;
        res.setHeader('content-type', 'application/json');
        const message = 'systemdworkloads.systemd.operators.dev is forbidden: User "bob" cannot list resource "systemdworkloads"';
        return res.end(JSON.stringify({ kind: 'Status', status: 'Failure', message, reason: 'Forbidden', code: 403 }));
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [], metadata: { resourceVersion: '7' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sdw-kc-'));
    kubeconfig = path.join(dir, 'config');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}, {name: hang, cluster: {server: "http://127.0.0.1:${port}/hang", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: secret}}]
contexts: [{name: c, context: {cluster: c, user: u}}, {name: hang, context: {cluster: hang, user: u}}]
current-context: c
`,
    );
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const headers = (raw: string[], name: string): string[] =>
    raw.flatMap((v, i) => (i % 2 === 0 && v.toLowerCase() === name ? [raw[i + 1]!] : []));

  it('--as and each --as-group reach the API server as their own header lines, on API calls and watches', async () => {
    const spec = { positionals: [0, 0] as [number, number], flags: COMMANDS.get!.spec.flags };
    const p = parseArgs(['--kubeconfig', kubeconfig, '--as', 'alice', '--as-group', 'a', '--as-group', 'b,c'], spec);
    const client = clusterClient(p);
    seen = [];
    await client.listWorkloads('default');
    const stop = new AbortController();
    await client.watchWorkloads('default', { resourceVersion: '7' }, () => undefined, stop.signal);
    expect(seen).toHaveLength(2);
    for (const raw of seen) {
      expect(headers(raw, 'impersonate-user')).toEqual(['alice']);
      expect(headers(raw, 'impersonate-group').sort()).toEqual(['a', 'b,c']);
      expect(headers(raw, 'authorization')).toEqual(['Bearer secret']);
    }
  });

  it('--request-timeout gives up on a request the server does not answer', async () => {
    const spec = { positionals: [0, 0] as [number, number], flags: COMMANDS.get!.spec.flags };
    const client = clusterClient(parseArgs(['--kubeconfig', kubeconfig, '--context', 'hang', '--request-timeout', '300ms'], spec));
    await expect(client.listWorkloads('default')).rejects.toThrow(/abort|timeout/i);
  });

  it('-w prints the list, then each change; --request-timeout ends the watch with exit 0', async () => {
    watches = 0;
    const g = await exec(['get', '--kubeconfig', kubeconfig, '-n', 'watched', '-w', '--request-timeout', '1s']);
    expect(g.code).toBe(0);
    expect(g.out).toMatch(/^NAME\s+DESIRED.*\nweb\s+3\s+2\s+3\s+1\s+Progressing\s+\S+\nweb\s+3\s+2\s+3\s+1\s+Running\s+\S+\n$/);
    watches = 0;
    const s = await exec(['status', '--kubeconfig', kubeconfig, '-n', 'watched', '-w', '--request-timeout', '1s', '-o', 'json']);
    expect(s.code).toBe(0);
    const views = s.out.split(/\n(?=\{)/).map((t) => (JSON.parse(t) as { items: Array<{ phase: string }> }).items[0]!.phase);
    expect(views).toEqual(['Progressing', 'Running']);
  });

  it('a refusal reads as the API server wrote it, with the HTTP status', async () => {
    const r = await exec(['get', '--kubeconfig', kubeconfig, '-n', 'forbidden']);
    expect(r).toEqual({
      code: 1,
      out: '',
      err: 'error: systemdworkloads.systemd.operators.dev is forbidden: User "bob" cannot list resource "systemdworkloads" (HTTP 403 Forbidden)\n',
    });
  });
});

describe('get output', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  it('a table with the CRD printer columns; -A adds NAMESPACE, wide adds UNITS and NODE-SELECTOR', () => {
    const rows = tableRows([workload('web')], { wide: true, allNamespaces: true, now });
    expect(rows).toEqual([
      ['NAMESPACE', 'NAME', 'DESIRED', 'READY', 'UP-TO-DATE', 'RESTARTS', 'PHASE', 'AGE', 'UNITS', 'NODE-SELECTOR'],
      ['team-a', 'web', '3', '2', '3', '1', 'Progressing', '1h', 'server', 'role=web'],
    ]);
    const w = columnWidths(rows);
    expect(formatRow(rows[1]!, w)).toBe(
      'team-a      web    3         2       3            1          Progressing   1h    server   role=web\n',
    );
  });

  it('json and yaml: managedFields left out unless asked; one object for a NAME, else a List', () => {
    expect(shown(workload('a'), false).metadata).not.toHaveProperty('managedFields');
    expect(shown(workload('a'), true).metadata).toHaveProperty('managedFields');
    expect(asDocument([workload('a')], true)).toMatchObject({ kind: 'SystemdWorkload' });
    expect(asDocument([workload('a')], false)).toMatchObject({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'SystemdWorkload' }] });
  });

  it('-l and NAME exclude each other; -o takes only kubectl forms', async () => {
    expect(await exec(['get', 'web', '-l', 'a=b'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('a NAME cannot be combined with -l'),
    });
    expect(await exec(['get', '-o', 'jsonpath'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('must be one of json, yaml, wide, name'),
    });
    expect(await exec(['status', '-o', 'table'])).toMatchObject({ code: 2 });
  });
});

describe('completion', () => {
  const asked: string[] = [];
  const lookup: Lookup = {
    workloads: async (ctx) => (
      asked.push(`workloads ns=${ctx.namespace ?? ''} ctx=${ctx.context ?? ''} all=${ctx.allNamespaces}`),
      ['web', 'bootstrap']
    ),
    namespaces: async () => ['default', 'team-a'],
    nodes: async () => ['demo-1'],
    contexts: async () => ['prod', 'staging'],
  };

  it('commands, rollout subcommands, shells', async () => {
    expect((await complete([''], lookup)).candidates).toEqual(expect.arrayContaining(['get', 'status', 'rollout', 'completion', 'logs']));
    expect(await complete(['st'], lookup)).toEqual({ candidates: ['status'], directive: 4 });
    expect((await complete(['rollout', 're'], lookup)).candidates).toEqual(['restart', 'resume']);
    expect((await complete(['completion', ''], lookup)).candidates).toEqual(['bash', 'zsh']);
  });

  it('flags, and flag values: choices, namespaces, contexts; paths left to the shell', async () => {
    expect((await complete(['get', '--sel'], lookup)).candidates).toEqual(['--selector']);
    expect((await complete(['get', '-'], lookup)).candidates).toEqual(expect.arrayContaining(['-o', '-l', '-w', '-A', '--as', '--help']));
    expect((await complete(['get', '-o', ''], lookup)).candidates).toEqual(['json', 'name', 'wide', 'yaml']);
    expect((await complete(['get', '--output=y'], lookup)).candidates).toEqual(['--output=yaml']);
    expect((await complete(['status', '-n', 't'], lookup)).candidates).toEqual(['team-a']);
    expect((await complete(['logs', 'web', '--context', ''], lookup)).candidates).toEqual(['prod', 'staging']);
    expect(await complete(['get', '--kubeconfig', ''], lookup)).toEqual({ candidates: [], directive: 0 });
    expect((await complete(['validate', ''], lookup)).directive).toBe(0);
  });

  it('workload names from the cluster the typed flags name, for the first NAME only', async () => {
    asked.length = 0;
    expect((await complete(['status', '-n', 'team-a', '--context=prod', 'w'], lookup)).candidates).toEqual(['web']);
    expect(asked).toEqual(['workloads ns=team-a ctx=prod all=false']);
    expect((await complete(['rollout', 'undo', ''], lookup)).candidates).toEqual(['bootstrap', 'web']);
    expect((await complete(['status', 'web', ''], lookup)).candidates).toEqual([]);
  });

  it('__complete prints candidates then the directive; a cluster it cannot reach gives no names and no error', async () => {
    const r = await exec(['__complete', 'rollout', 'p']);
    expect(r).toEqual({ code: 0, out: 'pause\npromote\n:4\n', err: '' });
    const names = await exec(['__complete', 'status', '--kubeconfig', '/nonexistent/config', '']);
    expect(names).toEqual({ code: 0, out: ':4\n', err: '' });
  });

  it('completion bash|zsh print a script for kubectl-sdw', async () => {
    expect((await exec(['completion', 'bash'])).out).toContain('complete -o nosort -F _kubectl_sdw kubectl-sdw');
    expect((await exec(['completion', 'zsh'])).out).toContain('compdef _kubectl_sdw kubectl-sdw');
    expect((await exec(['completion', 'fish'])).code).toBe(2);
  });
});

describe('krew manifest', () => {
  it('has every field krew requires, one archive for every platform, and refuses a malformed digest', () => {
    const sha = createHash('sha256').update('archive').digest('hex');
    const m = krewManifest('0.1.0', sha);
    expect(m).toMatchObject({ apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: { name: 'sdw' } });
    expect(m.spec.version).toBe('v0.1.0');
    for (const f of ['homepage', 'shortDescription', 'description'] as const) expect(m.spec[f]).toMatch(/\S/);
    expect(m.spec.platforms.map((p) => p.selector.matchLabels)).toEqual(PLATFORMS);
    for (const p of m.spec.platforms) {
      expect(p).toMatchObject({ sha256: sha, bin: 'kubectl-sdw' });
      expect(p.uri).toMatch(/^https:\/\/.+\/v0\.1\.0\/kubectl-sdw_v0\.1\.0\.tar\.gz$/);
    }
    expect(() => krewManifest('0.1.0', 'abc')).toThrow(/sha256/);
  });
});
