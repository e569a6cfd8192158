import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SystemdWorkload, UnitSpec } from '../../../src/api/types.js';
import { InvalidWorkloadError } from '../../../src/api/errors.js';
import { parseOwnerMarker } from '../../../src/api/markers.js';
import { parseUnitFileName, unitFileName } from '../../../src/api/names.js';
import { render, specHash, stripHashLine, unitFilesHash } from '../../../src/render/index.js';

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function wl(units: UnitSpec[], name = 'web', namespace = 'default'): SystemdWorkload {
  return { apiVersion: 'systemd.operators.dev/v1alpha1', kind: 'SystemdWorkload', metadata: { name, namespace }, spec: { units } };
}

/** Compares text with test/unit/render/golden/<name>; UPDATE_GOLDEN=1 rewrites it. */
function golden(name: string, text: string): void {
  const file = path.join(GOLDEN, name);
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) throw new Error(`missing golden file ${file}: run with UPDATE_GOLDEN=1`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return;
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const EXPORTER: UnitSpec = {
  name: 'exporter',
  type: 'service',
  command: ['/usr/bin/node_exporter', '--web.listen-address=:9100', '--collector.textfile.directory=/var/lib/%n $HOME "x"'],
  env: [
    { name: 'LOG_LEVEL', value: 'info' },
    { name: 'GREETING', value: 'say "hi" \\ 100% $USER' },
  ],
  user: 'nobody',
  group: 'nogroup',
  workingDirectory: '/var/lib/exporter',
  restart: { policy: 'Always', delaySeconds: 2 },
  resources: { limits: { memory: '256Mi', cpu: '500m', tasks: 100 }, requests: { cpu: '250m' } },
  after: ['migrate'],
  requires: ['migrate'],
  sandbox: {
    privateTmp: true,
    protectSystem: 'strict',
    protectHome: 'read-only',
    noNewPrivileges: true,
    readOnlyPaths: ['/etc/exporter'],
    readWritePaths: ['/var/lib/exporter', '/run/exporter'],
  },
};
const MIGRATE: UnitSpec = { name: 'migrate', type: 'oneshot', command: ['/usr/local/bin/migrate', '--once'], dynamicUser: true };
const BACKUP: UnitSpec = {
  name: 'backup',
  type: 'oneshot',
  command: ['/usr/bin/backup'],
  schedule: '0 3 1,15 * mon',
  timeZone: 'Europe/Berlin',
  restart: { policy: 'OnFailure' },
};
const MINIMAL: UnitSpec = { name: 'sleeper', command: ['/bin/sleep', 'infinity'] };

const CASES: Array<[string, SystemdWorkload]> = [
  ['full', wl([MIGRATE, EXPORTER, BACKUP])],
  ['minimal', wl([MINIMAL], 'tiny', 'team-a')],
  ['scheduled-service', wl([{ name: 'report', command: ['/usr/bin/report'], schedule: '*/15 * * * *' }], 'reports')],
];

describe('render: golden files', () => {
  it.each(CASES)('%s', (name, workload) => {
    const spec = render(workload, 'node-1');
    for (const u of spec.units) for (const f of u.files) golden(`${name}/${f.name}`, f.content);
    golden(
      `${name}/spec.json`,
      `${JSON.stringify({ ...spec, units: spec.units.map((u) => ({ ...u, files: u.files.map((f) => f.name) })) }, null, 2)}\n`,
    );
  });
});

describe('render', () => {
  const spec = render(wl([MIGRATE, EXPORTER, BACKUP]), 'node-1');

  it('is deterministic and independent of the node (except nodeName)', () => {
    const again = render(wl([MIGRATE, EXPORTER, BACKUP]), 'node-2');
    expect(again.hash).toBe(spec.hash);
    expect(again.units).toEqual(spec.units);
    expect(again.nodeName).toBe('node-2');
    expect(spec.shortHash).toBe(spec.hash.slice(0, 12));
  });

  it('names files sdw-<namespace>_<workload>_<unit>.<suffix> and parses them back', () => {
    expect(spec.units.map((u) => u.files.map((f) => f.name))).toEqual([
      ['sdw-default_web_migrate.service'],
      ['sdw-default_web_exporter.service'],
      ['sdw-default_web_backup.service', 'sdw-default_web_backup.timer'],
    ]);
    expect(parseUnitFileName('sdw-team-a_x.y_server.timer')).toEqual({
      namespace: 'team-a',
      workload: 'x.y',
      unit: 'server',
      suffix: 'timer',
    });
    expect(parseUnitFileName('sdw-a_b.service')).toBeUndefined();
    expect(parseUnitFileName('other.service')).toBeUndefined();
    // No two (namespace, workload) pairs share a unit name (the "-" join would: team-a/x vs team/a-x).
    expect(unitFileName('team-a', 'x', 'u')).not.toBe(unitFileName('team', 'a-x', 'u'));
  });

  it('marks ownership and a per-unit hash that covers the files minus the hash lines', () => {
    for (const u of spec.units) {
      const hashes = u.files.map((f) => parseOwnerMarker(f.content)?.hash);
      expect(new Set(hashes).size).toBe(1);
      expect(hashes[0]).toBe(unitFilesHash(u.files));
      for (const f of u.files) {
        expect(parseOwnerMarker(f.content)).toMatchObject({ namespace: 'default', workload: 'web' });
        expect(stripHashLine(f.content)).not.toContain('X-SDW-Hash');
      }
    }
    const edited = spec.units[1]!.files.map((f) => ({ ...f, content: f.content.replace('Restart=always', 'Restart=no') }));
    expect(unitFilesHash(edited)).not.toBe(parseOwnerMarker(edited[0]!.content)?.hash);
  });

  it('changes the spec hash when anything changes', () => {
    const other = render(wl([MIGRATE, { ...EXPORTER, env: [{ name: 'LOG_LEVEL', value: 'debug' }] }, BACKUP]), 'node-1');
    expect(other.hash).not.toBe(spec.hash);
    expect(other.units[0]).toEqual(spec.units[0]);
  });

  it('applies defaults: restart Always for a service, Never for a oneshot or a scheduled unit', () => {
    const s = render(wl([MINIMAL, { ...MIGRATE, dynamicUser: undefined }, { name: 'cron', command: ['/x'], schedule: '@daily' }]), 'n');
    const svc = (i: number) => s.units[i]!.files[0]!.content;
    expect(svc(0)).toMatch(/^Restart=always$/m);
    expect(svc(1)).toMatch(/^Restart=no$/m);
    expect(svc(1)).toMatch(/^RemainAfterExit=yes$/m);
    expect(svc(2)).toMatch(/^Restart=no$/m);
    expect(svc(2)).not.toContain('[Install]');
    expect(svc(0)).not.toContain('StartLimit');
  });

  it('bounds crash loops when a restart delay is set', () => {
    const s = render(wl([{ ...MINIMAL, restart: { policy: 'Always', delaySeconds: 30 } }]), 'n');
    const c = s.units[0]!.files[0]!.content;
    expect(c).toMatch(/^StartLimitIntervalSec=160s$/m);
    expect(c).toMatch(/^StartLimitBurst=5$/m);
    expect(c).toMatch(/^RestartSec=30s$/m);
  });

  it('maps cpu/memory quantities', () => {
    const s = render(wl([{ ...MINIMAL, resources: { limits: { cpu: 2, memory: '1G' }, requests: { cpu: '3' } } }]), 'n');
    const c = s.units[0]!.files[0]!.content;
    expect(c).toMatch(/^CPUQuota=200%$/m);
    expect(c).toMatch(/^MemoryMax=1000000000$/m);
    expect(c).toMatch(/^CPUWeight=300$/m);
  });

  it('refuses an invalid workload with every issue', () => {
    const bad = wl([
      { name: 'a', command: ['rel', 'x\ny'], after: ['b'] },
      { name: 'b', command: ['/x'], after: ['c'] },
      { name: 'c', command: ['/x'], after: ['a'] },
    ]);
    let err: unknown;
    try {
      render(bad, 'n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidWorkloadError);
    const issues = (err as InvalidWorkloadError).issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'spec.units[0].command[0]' }),
        expect.objectContaining({ field: 'spec.units[0].command[1]' }),
        expect.objectContaining({ field: 'spec.units[0].after', message: 'ordering cycle: a -> b -> c -> a' }),
      ]),
    );
  });

  it('requires a namespace', () => {
    const w = wl([MINIMAL]);
    delete w.metadata.namespace;
    expect(() => render(w, 'n')).toThrow('metadata.namespace: is required');
  });

  it('no string field can add a line to a unit file', () => {
    const evil = 'x\nExecStartPre=/bin/evil';
    const fields: Array<Partial<UnitSpec>> = [
      { command: ['/bin/x', evil] },
      { command: [`/bin/${evil}`] },
      { env: [{ name: 'A', value: evil }] },
      { user: evil },
      { group: evil },
      { workingDirectory: `/a/${evil}` },
      { schedule: `@daily\n${evil}` },
      { schedule: '@daily', timeZone: `UTC\n${evil}` },
      { sandbox: { readOnlyPaths: [`/${evil}`] } },
    ];
    for (const f of fields) expect(() => render(wl([{ ...MINIMAL, ...f }]), 'n')).toThrow(InvalidWorkloadError);
  });
});

describe('render: the restart stamp (kubectl sdw rollout restart)', () => {
  const base = wl([MINIMAL, BACKUP]);

  it('a new stamp changes every service file and the hash; the same stamp renders the same; no stamp renders as before', () => {
    const plain = render(base, 'n1');
    const a = render(base, 'n1', { restartedAt: '2026-11-30T18:00:00Z' });
    const b = render(base, 'n1', { restartedAt: '2026-11-30T18:05:00Z' });
    expect(new Set([plain.hash, a.hash, b.hash]).size).toBe(3);
    expect(render(base, 'n1', { restartedAt: '2026-11-30T18:00:00Z' }).hash).toBe(a.hash);
    expect(render(base, 'n1', {}).hash).toBe(plain.hash);
    const service = a.units[0]!.files[0]!;
    expect(service.content).toMatch(/^X-SDW-Restarted-At=2026-11-30T18:00:00Z$/m);
    // The marker's hash covers the stamp: the agent sees a new version, not a hand edit.
    expect(parseOwnerMarker(service.content)?.hash).toBe(unitFilesHash(a.units[0]!.files));
    expect(parseOwnerMarker(service.content)?.hash).not.toBe(parseOwnerMarker(plain.units[0]!.files[0]!.content)?.hash);
  });

  it('a stamp that is not a plain token reaches the file only as its digest', () => {
    const spec = render(base, 'n1', { restartedAt: 'x\nExecStartPre=/bin/evil' });
    const content = spec.units[0]!.files[0]!.content;
    expect(content).not.toContain('evil');
    expect(content).toMatch(/^X-SDW-Restarted-At=sha256-[0-9a-f]{16}$/m);
  });
});

describe('probes and type notify in the child spec', () => {
  const wl = (u: Record<string, unknown>) =>
    ({
      apiVersion: 'systemd.operators.dev/v1alpha1',
      kind: 'SystemdWorkload',
      metadata: { name: 'web', namespace: 'default' },
      spec: { units: [{ name: 'server', command: ['/bin/sleep', 'infinity'], dynamicUser: true, ...u }] },
    }) as unknown as SystemdWorkload;

  it('renders type notify as Type=notify with NotifyAccess=all', () => {
    const spec = render(wl({ type: 'notify' }), 'n1');
    expect(spec.units[0]!.type).toBe('notify');
    expect(spec.units[0]!.files[0]!.content).toMatch(/^Type=notify\nNotifyAccess=all$/m);
  });

  it('carries the probes with their defaults, and who exec probes run as', () => {
    const spec = render(
      wl({ readinessProbe: { httpGet: { port: 8080 } }, livenessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 2 } }),
      'n1',
    );
    expect(spec.units[0]).toMatchObject({
      readinessProbe: {
        httpGet: { port: 8080, host: '127.0.0.1', path: '/', scheme: 'HTTP' },
        initialDelaySeconds: 0,
        periodSeconds: 10,
        timeoutSeconds: 1,
        failureThreshold: 3,
        successThreshold: 1,
      },
      livenessProbe: { exec: { command: ['/bin/true'] }, periodSeconds: 2 },
      runAs: { dynamicUser: true },
    });
    expect(spec.units[0]!.files[0]!.content).not.toMatch(/8080|\/bin\/true/);
  });

  it('changes the hash when a probe changes, and not the unit files; no probes hash as before', () => {
    const plain = render(wl({}), 'n1');
    const a = render(wl({ readinessProbe: { tcpSocket: { port: 80 } } }), 'n1');
    const b = render(wl({ readinessProbe: { tcpSocket: { port: 81 } } }), 'n1');
    expect(new Set([plain.hash, a.hash, b.hash]).size).toBe(3);
    expect(a.units[0]!.files).toEqual(plain.units[0]!.files);
    expect(plain.hash).toBe(specHash(plain.units.flatMap((u) => u.files)));
  });
});
