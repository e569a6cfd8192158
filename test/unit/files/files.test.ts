// Files beside the units (issue 15): what the renderer puts in a child, what the
// controller seals, what the agent plans and writes. Pure parts, and the agent's
// file writer against a temporary directory.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SystemdUnitSet, SystemdWorkload, UnitSpec, WorkloadFile } from '../../../src/api/types.js';
import { renderWithPayloads, type SourceResolver } from '../../../src/render/index.js';
import { generateNodeKey, keyFingerprint, nodeKeyFromPem, open, seal, sealAad } from '../../../src/sealing/seal.js';
import { needsSealing, sealFiles } from '../../../src/controller/sealing.js';
import { planSync, desiredFiles } from '../../../src/agent/plan.js';
import { FileDelivery, filesUsedBy } from '../../../src/agent/files.js';

const SECRET = 's3cr3t-token-value';

function wl(units: UnitSpec[], files: WorkloadFile[]): SystemdWorkload {
  return {
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name: 'web', namespace: 'default' },
    spec: { units, files },
  };
}

function sources(config: string, secret = SECRET): SourceResolver {
  return {
    configMap: (name) => (name === 'cfg' ? { data: { 'app.conf': config } } : undefined),
    secret: (name) => (name === 'tok' ? { uid: 'uid-1', data: { token: Buffer.from(secret) } } : undefined),
  };
}

const FILES: WorkloadFile[] = [
  { name: 'conf', path: '/etc/sdw/default/web/app.conf', configMapKeyRef: { name: 'cfg', key: 'app.conf' } },
  { name: 'token', path: '/etc/sdw/default/web/token', secretKeyRef: { name: 'tok', key: 'token' } },
];
const UNITS: UnitSpec[] = [
  { name: 'server', command: ['/bin/sleep', 'infinity'], user: 'nobody', files: [{ name: 'conf' }, { name: 'token', changeMode: 'none' }] },
  {
    name: 'reloader',
    command: ['/bin/sleep', 'infinity'],
    dynamicUser: true,
    reload: { signal: 'HUP' },
    files: [{ name: 'conf', changeMode: 'reload' }],
  },
  {
    name: 'other',
    command: ['/bin/sleep', 'infinity'],
    dynamicUser: true,
    env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'tok', key: 'token' } } }],
  },
];

const unitFile = (spec: ReturnType<typeof renderWithPayloads>['spec'], unit: string): string =>
  spec.units.find((u) => u.name === unit)!.files[0]!.content;

describe('rendering files', () => {
  it('puts ConfigMap content in the child, a Secret only as a keyed digest, and the file lines into the units that use them', () => {
    const { spec, payloads } = renderWithPayloads(wl(UNITS, FILES), '', { sources: sources('a = 1\n') });
    const json = JSON.stringify(spec);
    expect(json).not.toContain(SECRET);
    const [conf, token, env] = spec.files!;
    expect(conf).toMatchObject({
      path: '/etc/sdw/default/web/app.conf',
      mode: '0644',
      content: 'a = 1\n',
      source: 'configmap/cfg/app.conf',
    });
    // The named user's; the dynamic user's unit reads it as a credential (systemd reads it as root).
    expect(conf!.owner).toBe('nobody');
    expect(token).toMatchObject({ mode: '0600', owner: 'nobody', source: 'secret/tok/token' });
    expect(token!.content).toBeUndefined();
    expect(token!.digest).toMatch(/^hmac-sha256:/);
    expect(env).toMatchObject({ path: '/etc/sdw/default/web/.sdw-env/other.env', mode: '0600' });
    expect(payloads.get(token!.digest)!.toString()).toBe(SECRET);
    expect(payloads.get(env!.digest)!.toString()).toBe(`TOKEN="${SECRET}"\n`);
    expect(unitFile(spec, 'server')).toContain(`X-SDW-File-Restart=/etc/sdw/default/web/app.conf ${conf!.digest}`);
    expect(unitFile(spec, 'server')).toContain(`X-SDW-File-None=/etc/sdw/default/web/token ${token!.digest}`);
    expect(unitFile(spec, 'reloader')).toContain('ExecReload=/bin/kill -HUP $MAINPID');
    expect(unitFile(spec, 'reloader')).toContain('LoadCredential=conf:/etc/sdw/default/web/app.conf');
    expect(unitFile(spec, 'other')).toContain('EnvironmentFile=/etc/sdw/default/web/.sdw-env/other.env');
    expect(unitFile(spec, 'other')).not.toContain('Environment="TOKEN');
  });

  it('a ConfigMap edit changes only the unit files of the units that use it, and the hash', () => {
    const a = renderWithPayloads(wl(UNITS, FILES), '', { sources: sources('a = 1\n') }).spec;
    const b = renderWithPayloads(wl(UNITS, FILES), '', { sources: sources('a = 2\n') }).spec;
    expect(a.hash).not.toBe(b.hash);
    expect(unitFile(a, 'server')).not.toBe(unitFile(b, 'server'));
    expect(unitFile(a, 'reloader')).not.toBe(unitFile(b, 'reloader'));
    expect(unitFile(a, 'other')).toBe(unitFile(b, 'other'));
  });

  it('a workload without files keeps the hash it always had', () => {
    const units: UnitSpec[] = [{ name: 'a', command: ['/bin/true'] }];
    const plain = renderWithPayloads({ ...wl(units, []), spec: { units } }, '').spec;
    expect(plain.files).toBeUndefined();
    expect(plain.hash).toBe(renderWithPayloads({ ...wl(units, []), spec: { units } }, '').spec.hash);
  });
});

describe('sealing', () => {
  it('opens only with the node key it was sealed for, at the place it was sealed for', () => {
    const a = generateNodeKey();
    const b = generateNodeKey();
    const sealed = seal(a.publicKey, Buffer.from(SECRET), sealAad('default', '/etc/sdw/default/web/token'));
    expect(sealed).not.toContain(Buffer.from(SECRET).toString('base64'));
    const ka = nodeKeyFromPem(a.privatePem);
    expect(open(ka.privateKey, ka.publicKey, sealed, sealAad('default', '/etc/sdw/default/web/token')).toString()).toBe(SECRET);
    const kb = nodeKeyFromPem(b.privatePem);
    expect(() => open(kb.privateKey, kb.publicKey, sealed, sealAad('default', '/etc/sdw/default/web/token'))).toThrow();
    expect(() => open(ka.privateKey, ka.publicKey, sealed, sealAad('other', '/etc/sdw/default/web/token'))).toThrow();
  });

  it('the controller seals a child once its key is known, and again when the key changes', () => {
    const { spec, payloads } = renderWithPayloads(wl(UNITS, FILES), '', { sources: sources('a = 1\n') });
    const key1 = generateNodeKey().publicKey;
    const child: SystemdUnitSet = {
      apiVersion: 'systemd.operators.dev/v1alpha1',
      kind: 'SystemdUnitSet',
      metadata: { name: 'c', namespace: 'default' },
      spec: { ...spec, nodeName: 'n1' },
    };
    expect(needsSealing(child, payloads)).toBe(false); // no key yet
    child.status = { sealingKey: key1 };
    expect(needsSealing(child, payloads)).toBe(true);
    child.spec.files = sealFiles(child.spec.files, 'default', key1, payloads);
    expect(needsSealing(child, payloads)).toBe(false);
    expect(child.spec.files!.filter((f) => f.sealedFor === keyFingerprint(key1))).toHaveLength(2);
    expect(JSON.stringify(child)).not.toContain(SECRET);
    child.status = { sealingKey: generateNodeKey().publicKey };
    expect(needsSealing(child, payloads)).toBe(true);
  });
});

describe('the agent', () => {
  const render = (config: string) => {
    const { spec, payloads } = renderWithPayloads(wl(UNITS, FILES), '', { sources: sources(config) });
    const child: SystemdUnitSet = {
      apiVersion: 'systemd.operators.dev/v1alpha1',
      kind: 'SystemdUnitSet',
      metadata: {
        name: 'c',
        namespace: 'default',
        ownerReferences: [{ apiVersion: 'v', kind: 'SystemdWorkload', name: 'web', uid: 'u', controller: true }],
      },
      spec: { ...spec, nodeName: 'n1' },
    };
    return { child, payloads };
  };

  it('restarts the units of a changed restart-mode file, reloads the reload-mode ones, and leaves the others', () => {
    const before = desiredFiles([render('a = 1\n').child]);
    const after = desiredFiles([render('a = 2\n').child]);
    const disk = new Map([...before.values()].map((d) => [d.file, { file: d.file, content: d.content }]));
    const running = new Map([...before.keys()].map((f) => [f, { activeState: 'active', loadState: 'loaded' }]));
    const plan = planSync(after, disk, running, { firstSyncDone: true });
    expect(plan.restart).toEqual(['sdw-default_web_server.service']);
    expect(plan.reloadUnits).toEqual(['sdw-default_web_reloader.service']);
    expect(filesUsedBy(after.get('sdw-default_web_other.service')!.content)).toEqual(['/etc/sdw/default/web/.sdw-env/other.env']);
  });

  it('writes files with their mode, opens sealed ones, and waits for a seal for its own key', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'sdw-files-'));
    const key = generateNodeKey();
    const k = nodeKeyFromPem(key.privatePem);
    const delivery = new FileDelivery(root, { ...k, fingerprint: keyFingerprint(k.publicKey) });
    const { child, payloads } = render('a = 1\n');
    // nobody exists on Debian; the test runs as root.
    let failed = await delivery.sync([child], true);
    expect([...failed.keys()].sort()).toEqual(['/etc/sdw/default/web/.sdw-env/other.env', '/etc/sdw/default/web/token']);
    expect(failed.get('/etc/sdw/default/web/token')).toMatch(/waiting for the controller to seal secret\/tok\/token/);
    expect(readFileSync(path.join(root, 'default/web/app.conf'), 'utf8')).toBe('a = 1\n');
    child.spec.files = sealFiles(child.spec.files, 'default', key.publicKey, payloads);
    failed = await delivery.sync([child], true);
    expect(failed.size).toBe(0);
    const token = path.join(root, 'default/web/token');
    expect(readFileSync(token, 'utf8')).toBe(SECRET);
    expect((statSync(token).mode & 0o777).toString(8)).toBe('600');
    // A file no child names goes, with its directory.
    await delivery.sync([], true);
    expect(() => statSync(path.join(root, 'default'))).toThrow();
  });

  it('keeps the files of a held child as they are: nothing written, nothing removed (its artifacts are not staged)', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'sdw-files-'));
    const k = nodeKeyFromPem(generateNodeKey().privatePem);
    const delivery = new FileDelivery(root, { ...k, fingerprint: keyFingerprint(k.publicKey) });
    const conf = path.join(root, 'default/web/app.conf');
    expect((await delivery.sync([render('a = 1\n').child], true)).has('/etc/sdw/default/web/app.conf')).toBe(false);
    const next = render('a = 2\n').child;
    await delivery.sync([next], true, () => true);
    expect(readFileSync(conf, 'utf8')).toBe('a = 1\n');
    // The file the new version drops stays while held; once staged, the new version's files replace the old.
    next.spec.files = next.spec.files!.filter((f) => !f.path.endsWith('/app.conf'));
    await delivery.sync([next], true, () => true);
    expect(readFileSync(conf, 'utf8')).toBe('a = 1\n');
    await delivery.sync([next], true);
    expect(() => statSync(conf)).toThrow();
  });

  it('refuses a path outside the workload directory', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'sdw-files-'));
    const k = nodeKeyFromPem(generateNodeKey().privatePem);
    const delivery = new FileDelivery(root, { ...k, fingerprint: keyFingerprint(k.publicKey) });
    const { child } = render('x');
    child.spec.files = [{ path: '/etc/sdw/other/web/x', mode: '0644', digest: 'd', content: 'x' }];
    const failed = await delivery.sync([child], true);
    expect(failed.get('/etc/sdw/other/web/x')).toMatch(/refused/);
  });
});
