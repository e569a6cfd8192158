// Files a policy allows outside /etc/sdw (src/agent/outsideFiles.ts through
// FileDelivery), against a temporary node root: written with their mode and
// owner and recorded (0600) before they exist; a foreign file, a link at the
// path or in a parent directory, a missing directory and a path two workloads
// name all fail, naming the path, and leave the node as it was; removal takes
// only what was written; a failed write and a crash mid-write leave no record
// of a path the agent did not write. And the admission-side pure parts.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
  promises,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import type { DeliveredFile, SystemdUnitSet } from '../../../src/api/types.js';
import { FileDelivery } from '../../../src/agent/files.js';
import { filePathAllowed, forbiddenPrefixOf, isOutsideFilesRoot, isUnder } from '../../../src/api/filePaths.js';
import { validateWorkload } from '../../../src/api/validate.js';

function child(workload: string, files: Array<Partial<DeliveredFile> & { path: string }>, ns = 'team-a'): SystemdUnitSet {
  return {
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdUnitSet',
    metadata: {
      name: `${workload}-n1`,
      namespace: ns,
      labels: { 'systemd.operators.dev/workload': workload },
      ownerReferences: [
        { apiVersion: 'systemd.operators.dev/v1alpha1', kind: 'SystemdWorkload', name: workload, uid: 'u', controller: true },
      ],
    },
    spec: { nodeName: 'n1', hash: 'h', units: [], files: files.map((f) => ({ mode: '0640', digest: 'd', content: 'v1\n', ...f })) },
  } as unknown as SystemdUnitSet;
}

const realRename = promises.rename.bind(promises);

interface Node {
  root: string;
  state: string;
  delivery: FileDelivery;
  host: (p: string) => string;
  record: () => Record<string, { owner: string }>;
}

function node(): Node {
  const base = mkdtempSync(path.join(os.tmpdir(), 'sdw-outside-'));
  const root = path.join(base, 'root');
  const state = path.join(base, 'state');
  mkdirSync(path.join(root, 'srv/app'), { recursive: true });
  const delivery = new FileDelivery(path.join(base, 'etc-sdw'), undefined, undefined, 'no key in this test', {
    nodeRoot: root,
    stateDir: state,
    ownDirs: ['/var/lib/agent-state-elsewhere'],
  });
  return {
    root,
    state,
    delivery,
    host: (p) => path.join(root, p),
    record: () =>
      existsSync(path.join(state, 'written-files.json'))
        ? (JSON.parse(readFileSync(path.join(state, 'written-files.json'), 'utf8')) as Record<string, { owner: string }>)
        : {},
  };
}

describe('files outside /etc/sdw, on the agent', () => {
  it('writes the file with its mode and owner and records it (the record 0600)', async () => {
    const n = node();
    const failed = await n.delivery.sync([child('api', [{ path: '/srv/app/api.conf', owner: 'nobody' }])], true);
    expect(failed).toEqual(new Map());
    const st = statSync(n.host('/srv/app/api.conf'));
    expect(readFileSync(n.host('/srv/app/api.conf'), 'utf8')).toBe('v1\n');
    expect(st.mode & 0o7777).toBe(0o640);
    expect(n.record()).toEqual({ '/srv/app/api.conf': expect.objectContaining({ owner: 'team-a/api' }) });
    expect(statSync(path.join(n.state, 'written-files.json')).mode & 0o777).toBe(0o600);
    // An edit rewrites its own file.
    await n.delivery.sync([child('api', [{ path: '/srv/app/api.conf', content: 'v2\n' }])], true);
    expect(readFileSync(n.host('/srv/app/api.conf'), 'utf8')).toBe('v2\n');
    expect(readdirSync(n.host('/srv/app'))).toEqual(['api.conf']);
  });

  it('never overwrites a file it did not write: the path fails, named, and the file stays', async () => {
    const n = node();
    writeFileSync(n.host('/srv/app/api.conf'), "the admin's\n", { mode: 0o600 });
    const failed = await n.delivery.sync([child('api', [{ path: '/srv/app/api.conf' }])], true);
    expect(failed.get('/srv/app/api.conf')).toMatch(/\/srv\/app\/api\.conf exists and was not written by the agent/);
    expect(readFileSync(n.host('/srv/app/api.conf'), 'utf8')).toBe("the admin's\n");
    expect(n.record()).toEqual({});
    // Nor removes it when the workload goes.
    await n.delivery.sync([], true);
    expect(readFileSync(n.host('/srv/app/api.conf'), 'utf8')).toBe("the admin's\n");
  });

  it('never follows a link: at the path, or in a directory above it', async () => {
    const n = node();
    writeFileSync(n.host('/srv/target'), 'target\n');
    symlinkSync(n.host('/srv/target'), n.host('/srv/app/api.conf'));
    const failed = await n.delivery.sync([child('api', [{ path: '/srv/app/api.conf' }])], true);
    expect(failed.get('/srv/app/api.conf')).toMatch(/\/srv\/app\/api\.conf is a symbolic link/);
    expect(readFileSync(n.host('/srv/target'), 'utf8')).toBe('target\n');
    expect(lstatSync(n.host('/srv/app/api.conf')).isSymbolicLink()).toBe(true);

    mkdirSync(n.host('/srv/real'));
    symlinkSync(n.host('/srv/real'), n.host('/srv/linked'));
    const viaDir = await n.delivery.sync([child('api', [{ path: '/srv/linked/x.conf' }])], true);
    expect(viaDir.get('/srv/linked/x.conf')).toMatch(/\/srv\/linked is a symbolic link/);
    expect(readdirSync(n.host('/srv/real'))).toEqual([]);
    expect(n.record()).toEqual({});
  });

  it('creates no directory: a missing one is named', async () => {
    const n = node();
    const failed = await n.delivery.sync([child('api', [{ path: '/srv/nope/x.conf' }])], true);
    expect(failed.get('/srv/nope/x.conf')).toMatch(/directory \/srv\/nope does not exist on this node/);
    expect(existsSync(n.host('/srv/nope'))).toBe(false);
  });

  it('removes what it wrote when the file or the workload goes, and nothing else', async () => {
    const n = node();
    writeFileSync(n.host('/srv/app/other'), 'not ours\n');
    await n.delivery.sync([child('api', [{ path: '/srv/app/a.conf' }, { path: '/srv/app/b.conf' }])], true);
    await n.delivery.sync([child('api', [{ path: '/srv/app/a.conf' }])], true);
    expect(readdirSync(n.host('/srv/app')).sort()).toEqual(['a.conf', 'other']);
    // Before the first complete list nothing is removed.
    await n.delivery.sync([], false);
    expect(existsSync(n.host('/srv/app/a.conf'))).toBe(true);
    await n.delivery.sync([], true);
    expect(readdirSync(n.host('/srv/app')).sort()).toEqual(['other']);
    expect(existsSync(n.host('/srv/app'))).toBe(true);
    expect(n.record()).toEqual({});
  });

  it('neither removes nor overwrites a written file that was replaced or edited on the node since (an inode number comes back)', async () => {
    const n = node();
    await n.delivery.sync([child('api', [{ path: '/srv/app/a.conf' }])], true);
    await promises.rm(n.host('/srv/app/a.conf'));
    writeFileSync(n.host('/srv/app/a.conf'), "the admin's\n");
    await n.delivery.sync([], true);
    expect(readFileSync(n.host('/srv/app/a.conf'), 'utf8')).toBe("the admin's\n");
    expect(n.record()).toEqual({});

    await n.delivery.sync([child('api', [{ path: '/srv/app/b.conf' }])], true);
    writeFileSync(n.host('/srv/app/b.conf'), 'edited\n');
    const failed = await n.delivery.sync([child('api', [{ path: '/srv/app/b.conf', content: 'v2\n' }])], true);
    expect(failed.get('/srv/app/b.conf')).toMatch(/exists and was not written by the agent/);
    await n.delivery.sync([], true);
    expect(readFileSync(n.host('/srv/app/b.conf'), 'utf8')).toBe('edited\n');
  });

  it("keeps a held child's files; a path two workloads name is written for neither", async () => {
    const n = node();
    await n.delivery.sync([child('api', [{ path: '/srv/app/a.conf' }])], true);
    await n.delivery.sync([child('api', [])], true, () => true);
    expect(existsSync(n.host('/srv/app/a.conf'))).toBe(true);

    const failed = await n.delivery.sync(
      [child('one', [{ path: '/srv/app/both' }]), child('two', [{ path: '/srv/app/both' }], 'team-b')],
      true,
    );
    expect(failed.get('/srv/app/both')).toMatch(/\/srv\/app\/both is named by 2 workloads \(team-a\/one, team-b\/two\)/);
    expect(existsSync(n.host('/srv/app/both'))).toBe(false);
  });

  it('refuses forbidden directories and its own, whatever the child says', async () => {
    const n = node();
    mkdirSync(n.host('/etc/systemd/system'), { recursive: true });
    const failed = await n.delivery.sync(
      [
        child('api', [
          { path: '/etc/systemd/system/evil.service' },
          { path: '/var/lib/agent-state-elsewhere/x' },
          { path: '/etc/sdw/other/api/x' },
        ]),
      ],
      true,
    );
    expect(failed.get('/etc/systemd/system/evil.service')).toMatch(
      /refused: '\/etc\/systemd\/system\/evil\.service' is under \/etc\/systemd/,
    );
    expect(failed.get('/var/lib/agent-state-elsewhere/x')).toMatch(/refused: .* is under \/var\/lib\/agent-state-elsewhere/);
    expect(failed.get('/etc/sdw/other/api/x')).toMatch(/refused: \/etc\/sdw\/other\/api\/x is outside \/etc\/sdw\/team-a\/api\//);
    expect(readdirSync(n.host('/etc/systemd/system'))).toEqual([]);
  });

  it('removes nothing through a directory that became a link; an unreadable record stops every write outside /etc/sdw', async () => {
    const n = node();
    await n.delivery.sync([child('api', [{ path: '/srv/app/a.conf' }])], true);
    await promises.rename(n.host('/srv/app'), n.host('/srv/real'));
    symlinkSync('real', n.host('/srv/app'));
    await n.delivery.sync([], true);
    expect(readFileSync(n.host('/srv/real/a.conf'), 'utf8')).toBe('v1\n');
    expect(n.record()).toEqual({});

    const m = node();
    mkdirSync(m.state, { recursive: true });
    writeFileSync(path.join(m.state, 'written-files.json'), '{not json');
    const failed = await m.delivery.sync([child('api', [{ path: '/srv/app/a.conf' }])], true);
    expect(failed.get('/srv/app/a.conf')).toMatch(/cannot read written-files\.json/);
    expect(existsSync(m.host('/srv/app/a.conf'))).toBe(false);
  });

  it('a failed write leaves neither a partial file nor a record of the path', async () => {
    const n = node();
    const rename = jest.spyOn(promises, 'rename').mockImplementation(async (from, to) => {
      if (String(to) === n.host('/srv/app/a.conf')) throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
      return realRename(from, to);
    });
    try {
      const failed = await n.delivery.sync([child('api', [{ path: '/srv/app/a.conf' }])], true);
      expect(failed.get('/srv/app/a.conf')).toMatch(/EIO: simulated/);
    } finally {
      rename.mockRestore();
    }
    expect(readdirSync(n.host('/srv/app'))).toEqual([]);
    expect(n.record()).toEqual({});
    // A foreign file put there afterwards is the admin's: not overwritten, not removed.
    writeFileSync(n.host('/srv/app/a.conf'), 'later\n');
    await n.delivery.sync([], true);
    expect(readFileSync(n.host('/srv/app/a.conf'), 'utf8')).toBe('later\n');
  });

  it('after a crash mid-write: the temp file is removed and the path is not taken for its own', async () => {
    const n = node();
    mkdirSync(n.state, { recursive: true });
    const tmp = n.host('/srv/app/.a.conf.abc.sdw-tmp');
    writeFileSync(tmp, 'half');
    writeFileSync(n.host('/srv/app/a.conf'), 'foreign\n');
    writeFileSync(
      path.join(n.state, 'written-files.json'),
      JSON.stringify({ '/srv/app/a.conf': { owner: 'team-a/api', dev: '0', ids: [], tmp } }),
      {
        mode: 0o600,
      },
    );
    const failed = await n.delivery.sync([child('api', [{ path: '/srv/app/a.conf' }])], true);
    expect(failed.get('/srv/app/a.conf')).toMatch(/exists and was not written by the agent/);
    expect(existsSync(tmp)).toBe(false);
    expect(readFileSync(n.host('/srv/app/a.conf'), 'utf8')).toBe('foreign\n');
    expect(n.record()).toEqual({});
  });
});

describe('file paths at admission, offline', () => {
  it('prefix matching: strictly below a directory, with or without its trailing slash', () => {
    expect(filePathAllowed('/opt/app/x', ['/opt/app'])).toBe(true);
    expect(filePathAllowed('/opt/app/x', ['/opt/app/'])).toBe(true);
    expect(filePathAllowed('/opt/app', ['/opt/app'])).toBe(false);
    expect(filePathAllowed('/opt/application/x', ['/opt/app'])).toBe(false);
    expect(filePathAllowed('/opt/app/x', [])).toBe(false);
    expect(isUnder('/usr', '/usr')).toBe(true);
    expect(isUnder('/usrx/a', '/usr')).toBe(false);
    expect(forbiddenPrefixOf('/etc/systemd/system/x.service')).toBe('/etc/systemd');
    expect(forbiddenPrefixOf('/etc/systemd-extra/x')).toBeUndefined();
    expect(isOutsideFilesRoot('/etc/sdwx/a')).toBe(true);
    expect(isOutsideFilesRoot('/etc/sdw/a/b/c')).toBe(false);
  });

  it('validateWorkload admits a path outside /etc/sdw (the policies judge it) and refuses forbidden ones, naming the field', () => {
    const w = (p: string) => ({
      apiVersion: 'systemd.operators.dev/v1alpha1',
      kind: 'SystemdWorkload',
      metadata: { name: 'api', namespace: 'team-a' },
      spec: { units: [{ name: 'main', command: ['/bin/true'], dynamicUser: true }], files: [{ name: 'c', path: p, content: 'x' }] },
    });
    const issues = (p: string) =>
      validateWorkload(w(p))
        .map((i) => `${i.field}: ${i.message}`)
        .join('; ');
    expect(issues('/srv/app/api.conf')).toBe('');
    expect(issues('/etc/sdw/team-a/api/api.conf')).toBe('');
    expect(issues('/usr/local/etc/api.conf')).toMatch(/spec\.files\[0\]\.path: must not be under \/etc\/systemd/);
    expect(issues('/etc/sdw/team-b/api/api.conf')).toMatch(
      /spec\.files\[0\]\.path: a path under \/etc\/sdw must be under \/etc\/sdw\/team-a\/api\//,
    );
  });
});
