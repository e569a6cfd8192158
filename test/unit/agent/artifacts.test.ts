// Artifacts on the agent's side (src/agent/artifacts.ts, archive.ts, download.ts)
// against a real HTTP server on loopback and a temporary directory, and how they
// enter the rendered units (src/render/artifacts.ts).
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ArtifactStore } from '../../../src/agent/artifacts.js';
import { UnsafeArchiveError, unpackTarGz, unpackZip } from '../../../src/agent/archive.js';
import { holdBlocked } from '../../../src/agent/reconcile.js';
import type { DesiredFile } from '../../../src/agent/plan.js';
import { LABEL_WORKLOAD, type ChildArtifact, type SystemdUnitSet, type SystemdWorkload } from '../../../src/api/types.js';
import { createLogger } from '../../../src/observability/log.js';
import { render } from '../../../src/render/index.js';
import { tarGz, zip, type Entry } from '../../harness/archives.js';

const log = createLogger({}, 'error', () => undefined);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let tmp: string;
beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sdw-artifacts-'));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('rendering', () => {
  const wl = (digest: string): SystemdWorkload => ({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name: 'web', namespace: 'team-a' },
    spec: {
      artifacts: [{ name: 'app-bin', url: 'https://example.com/rel/app.tar.gz?x=1', sha256: digest, unpack: 'tar.gz' }],
      units: [
        { name: 'server', command: ['/var/lib/sdw/artifacts/team-a/web/app-bin/current/server'], artifacts: ['app-bin'] },
        { name: 'other', command: ['/bin/sleep', 'infinity'] },
      ],
    },
  });

  it('names the digest in [Unit] and the current path in the environment of the units that use it', () => {
    const spec = render(wl('a'.repeat(64)), 'n1');
    const server = spec.units[0]!.files[0]!.content;
    expect(server).toContain(`X-SDW-Artifact=app-bin sha256:${'a'.repeat(64)}\n`);
    expect(server).toContain('Environment="SDW_ARTIFACT_APP_BIN=/var/lib/sdw/artifacts/team-a/web/app-bin/current"\n');
    expect(spec.units[1]!.files[0]!.content).not.toContain('X-SDW-Artifact');
    expect(spec.artifacts).toEqual([
      {
        name: 'app-bin',
        url: 'https://example.com/rel/app.tar.gz?x=1',
        sha256: 'a'.repeat(64),
        unpack: 'tar.gz',
        fileName: 'app.tar.gz',
        maxSizeBytes: 1024 ** 3,
        timeoutSeconds: 300,
      },
    ]);
  });

  it('a new digest changes the using unit and the child hash, not the other unit', () => {
    const a = render(wl('a'.repeat(64)), 'n1');
    const b = render(wl('b'.repeat(64)), 'n1');
    expect(b.hash).not.toBe(a.hash);
    expect(b.units[0]!.files[0]!.content).not.toBe(a.units[0]!.files[0]!.content);
    expect(b.units[1]!.files[0]!.content).toBe(a.units[1]!.files[0]!.content);
  });
});

describe('unpacking', () => {
  async function unpack(kind: 'tar.gz' | 'zip', entries: Entry[], max = 1 << 20): Promise<string> {
    const archive = path.join(tmp, `a.${kind}`);
    await fs.writeFile(archive, kind === 'zip' ? zip(entries) : tarGz(entries));
    const dest = await fs.mkdtemp(path.join(tmp, 'out-'));
    await (kind === 'zip' ? unpackZip : unpackTarGz)(archive, dest, max);
    return dest;
  }

  it.each(['tar.gz', 'zip'] as const)('%s: files, directories, modes and a link inside', async (kind) => {
    const long = `deep/${'d'.repeat(120)}/file.txt`;
    const dest = await unpack(kind, [
      { name: 'bin', type: 'dir' },
      { name: 'bin/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o4777 },
      { name: 'etc/conf', content: 'x=1\n', mode: 0o600 },
      { name: 'run', type: 'symlink', target: 'bin/run.sh' },
      ...(kind === 'tar.gz' ? [{ name: long, content: 'long' }] : []),
    ]);
    expect(await fs.readFile(path.join(dest, 'bin/run.sh'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    // setuid and group/other write dropped.
    expect((await fs.stat(path.join(dest, 'bin/run.sh'))).mode & 0o7777).toBe(0o755);
    expect((await fs.stat(path.join(dest, 'etc/conf'))).mode & 0o7777).toBe(0o600);
    expect(await fs.readlink(path.join(dest, 'run'))).toBe('bin/run.sh');
    if (kind === 'tar.gz') expect(await fs.readFile(path.join(dest, long), 'utf8')).toBe('long');
  });

  const hostile: Array<[string, Entry[], RegExp]> = [
    ['an absolute path', [{ name: '/etc/evil', content: 'x' }], /absolute path/],
    ['a .. component', [{ name: 'a/../../evil', content: 'x' }], /'\.\.' component/],
    ['a link pointing out (absolute)', [{ name: 'l', type: 'symlink', target: '/etc' }], /points outside/],
    ['a link pointing out (..)', [{ name: 'a/l', type: 'symlink', target: '../../etc' }], /points outside/],
    [
      'an entry below a link',
      [
        { name: 'l', type: 'symlink', target: '.' },
        { name: 'l/x', content: 'x' },
      ],
      /below the symbolic link/,
    ],
    [
      'the same file twice (a link, then a file written through it)',
      [
        { name: 'f', type: 'symlink', target: 'g' },
        { name: 'f', content: 'x' },
      ],
      /appears twice/,
    ],
  ];
  it.each(hostile.flatMap(([what, entries, re]) => (['tar.gz', 'zip'] as const).map((k) => [k, what, entries, re] as const)))(
    '%s: refuses %s',
    async (kind, _what, entries, re) => {
      const err = await unpack(kind, entries).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsafeArchiveError);
      expect((err as Error).message).toMatch(re);
      // Nothing was written outside the directory.
      await expect(fs.stat(path.join(tmp, 'evil'))).rejects.toThrow();
      await expect(fs.stat('/etc/evil')).rejects.toThrow();
    },
  );

  it('tar.gz: refuses a hard link', async () => {
    await expect(
      unpack('tar.gz', [
        { name: 'a', content: 'x' },
        { name: 'b', type: 'hardlink', target: '/etc/shadow' },
      ]),
    ).rejects.toThrow(/hard link is not allowed/);
  });

  it('stops at the unpacked size limit (a gzip bomb)', async () => {
    await expect(unpack('tar.gz', [{ name: 'big', content: Buffer.alloc(200_000) }], 100_000)).rejects.toThrow(/more than 100000 bytes/);
    await expect(unpack('zip', [{ name: 'big', content: Buffer.alloc(200_000) }], 100_000)).rejects.toThrow(/more than 100000 bytes/);
  });
});

describe('staging over HTTP', () => {
  let server: http.Server;
  let base: string;
  const files = new Map<string, Buffer>();
  let requests: string[] = [];
  /** Paths the server answers with half the body, then closes the connection. */
  const cut = new Set<string>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      const body = files.get(req.url ?? '');
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length });
      if (cut.has(req.url ?? '')) {
        res.write(body.subarray(0, body.length >> 1));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    requests = [];
    cut.clear();
  });

  const child = (artifacts: ChildArtifact[], name = 'web-n1'): SystemdUnitSet => ({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdUnitSet',
    metadata: { name, namespace: 'ns', labels: { [LABEL_WORKLOAD]: 'web' } },
    spec: { nodeName: 'n1', units: [], hash: 'h', artifacts },
  });
  const artifact = (file: string, body: Buffer, extra: Partial<ChildArtifact> = {}): ChildArtifact => {
    files.set(`/${file}`, body);
    return { name: 'app', url: `${base}/${file}`, sha256: sha(body), fileName: file, maxSizeBytes: 1 << 20, timeoutSeconds: 10, ...extra };
  };

  it('stages, activates, caches by digest and sweeps versions no child refers to', async () => {
    const store = new ArtifactStore(tmp, log);
    const v1 = artifact('app-v1.sh', Buffer.from('#!/bin/sh\necho v1\n'));
    const c1 = child([v1]);
    expect((await store.stage([c1])).blocked.size).toBe(0);
    await store.activate(c1);
    const dir = path.join(tmp, 'ns/web/app');
    expect(await fs.readlink(path.join(dir, 'current'))).toBe(v1.sha256);
    expect(await fs.readFile(path.join(dir, 'current/app-v1.sh'), 'utf8')).toBe('#!/bin/sh\necho v1\n');
    expect((await fs.stat(path.join(dir, 'current/app-v1.sh'))).mode & 0o777).toBe(0o755);

    requests = [];
    await store.stage([c1]);
    expect(requests).toEqual([]); // cached: the version directory is there

    const v2 = artifact('app-v2.tgz', tarGz([{ name: 'bin/app', content: 'v2', mode: 0o755 }]), { unpack: 'tar.gz' });
    const c2 = child([v2]);
    expect((await store.stage([c2])).blocked.size).toBe(0);
    await store.activate(c2);
    await store.sweep([c2]);
    expect((await fs.readdir(dir)).sort()).toEqual(['current', v2.sha256].sort());
    expect(await fs.readFile(path.join(dir, 'current/bin/app'), 'utf8')).toBe('v2');

    await store.sweep([]); // the workload left the node
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('a digest mismatch blocks the child, names the URL and both digests, keeps current, and backs off', async () => {
    let t = 1_000_000;
    const store = new ArtifactStore(tmp, log, () => t);
    const good = artifact('good.sh', Buffer.from('good'));
    await store.stage([child([good])]);
    await store.activate(child([good]));
    const expected = sha('the real v2');
    files.set('/v2.sh', Buffer.from('tampered v2'));
    const bad: ChildArtifact = { ...good, url: `${base}/v2.sh`, sha256: expected };
    const r = await store.stage([child([bad])]);
    const msg = r.blocked.get('ns/web-n1');
    expect(msg).toContain(`${base}/v2.sh`);
    expect(msg).toContain(`expected ${expected}`);
    expect(msg).toContain(`got ${sha('tampered v2')}`);
    expect(r.retryInMs).toBe(1000);
    // Retried only after the back-off; the old version stays current and is kept by the sweep.
    requests = [];
    await store.stage([child([bad])]);
    expect(requests).toEqual([]);
    t += 1000;
    expect((await store.stage([child([bad])])).retryInMs).toBe(2000);
    expect(requests).toEqual(['/v2.sh']);
    await store.sweep([child([bad])]);
    expect(await fs.readlink(path.join(tmp, 'ns/web/app/current'))).toBe(good.sha256);
    expect(await fs.readdir(path.join(tmp, 'ns/web/app'))).toContain(good.sha256);
  });

  it('an interrupted download is a failure and nothing of it is kept', async () => {
    const store = new ArtifactStore(tmp, log);
    const a = artifact('cut.bin', Buffer.alloc(100_000, 7));
    cut.add('/cut.bin');
    const msg = (await store.stage([child([a])])).blocked.get('ns/web-n1');
    expect(msg).toMatch(/download of .*\/cut\.bin failed: interrupted: the connection closed after \d+ of 100000 bytes/);
    await expect(fs.stat(path.join(tmp, 'ns/web/app', a.sha256))).rejects.toThrow();
    await store.sweep([child([a])]);
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('refuses a download larger than maxSize, and a 404', async () => {
    const store = new ArtifactStore(tmp, log);
    const big = artifact('big.bin', Buffer.alloc(5000), { maxSizeBytes: 4096 });
    expect((await store.stage([child([big])])).blocked.get('ns/web-n1')).toMatch(/Content-Length 5000 exceeds maxSize \(4096 bytes\)/);
    const missing: ChildArtifact = { ...big, url: `${base}/nope`, maxSizeBytes: 1 << 20 };
    expect((await store.stage([child([missing])])).blocked.get('ns/web-n1')).toMatch(/HTTP 404/);
  });
});

describe('holding a blocked child', () => {
  const d = (file: string, child: string, content: string): DesiredFile => ({
    file,
    content,
    child,
    unit: 'u',
    role: 'service',
    type: 'service',
    restart: 'Always',
  });

  it("keeps the blocked child's files as on disk, writes none of its new ones, removes none of its old ones", () => {
    const desired = new Map([
      ['sdw-ns_web_a.service', d('sdw-ns_web_a.service', 'ns/web-n1', 'new a')],
      ['sdw-ns_web_new.service', d('sdw-ns_web_new.service', 'ns/web-n1', 'new')],
      ['sdw-ns_db_a.service', d('sdw-ns_db_a.service', 'ns/db-n1', 'new db')],
    ]);
    const disk = new Map(
      ['sdw-ns_web_a.service', 'sdw-ns_web_gone.service', 'sdw-ns_db_a.service'].map((f) => [f, { file: f, content: `old ${f}` }]),
    );
    holdBlocked(
      desired,
      disk,
      new Map([['ns/web-n1', 'artifact app: ...']]),
      new Map([
        ['ns/web-n1', 'sdw-ns_web_'],
        ['ns/db-n1', 'sdw-ns_db_'],
      ]),
    );
    expect(desired.get('sdw-ns_web_a.service')?.content).toBe('old sdw-ns_web_a.service');
    expect(desired.has('sdw-ns_web_new.service')).toBe(false);
    expect(desired.get('sdw-ns_web_gone.service')?.content).toBe('old sdw-ns_web_gone.service');
    expect(desired.get('sdw-ns_db_a.service')?.content).toBe('new db');
  });
});
