// UnitFileStore on a real file system: atomic writes, and foreign files untouched.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ForeignUnitError, UnitStoreError } from '../../../src/systemd/errors.js';
import { UnitFileStore } from '../../../src/systemd/unitStore.js';
import { ownedUnit } from './helpers.js';

let dir: string;
let store: UnitFileStore;
const FOREIGN = "[Unit]\nDescription=the admin's own unit\n[Service]\nExecStart=/bin/true\n";

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdw-unitstore-'));
  store = new UnitFileStore(dir);
});
afterEach(async () => {
  execFileSync('chattr', ['-i', dir]); // in case a test left it immutable
  await fs.rm(dir, { recursive: true, force: true });
});

describe('UnitFileStore', () => {
  it('writes atomically, reports unchanged content, reads the marker back', async () => {
    const content = ownedUnit({ workload: 'web', service: ['ExecStart=/bin/sleep infinity'] });
    expect(await store.write('sdw-default-web-a.service', content)).toBe(true);
    expect(await store.write('sdw-default-web-a.service', content)).toBe(false);
    const f = await store.read('sdw-default-web-a.service');
    expect(f).toMatchObject({ name: 'sdw-default-web-a.service', content, owner: { namespace: 'default', workload: 'web' } });
    expect((await fs.stat(path.join(dir, 'sdw-default-web-a.service'))).mode & 0o777).toBe(0o644);
    // No temp file is left behind.
    expect(await fs.readdir(dir)).toEqual(['sdw-default-web-a.service']);
    expect(await store.read('absent.service')).toBeUndefined();
  });

  it('never lists, overwrites or removes a foreign unit file, nor a symlink or a directory', async () => {
    await fs.writeFile(path.join(dir, 'admin.service'), FOREIGN);
    await fs.writeFile(path.join(dir, 'fake.service'), '[Service]\nX-SDW-Owner=default/web\n'); // marker not in [Unit]
    await fs.symlink('/dev/null', path.join(dir, 'masked.service'));
    await fs.mkdir(path.join(dir, 'sdnode.target.wants'));
    await fs.symlink(path.join(dir, 'sdw-default-web-a.service'), path.join(dir, 'sdnode.target.wants', 'sdw-default-web-a.service'));
    await store.write('sdw-default-web-a.service', ownedUnit({ workload: 'web', service: ['ExecStart=/bin/true'] }));
    // A symlink with a unit name pointing at an owned file is still not ours.
    await fs.symlink(path.join(dir, 'sdw-default-web-a.service'), path.join(dir, 'sdw-default-web-link.service'));

    expect((await store.listOwned()).map((f) => f.name)).toEqual(['sdw-default-web-a.service']);

    for (const name of ['admin.service', 'fake.service', 'masked.service', 'sdw-default-web-link.service']) {
      await expect(store.remove(name)).rejects.toBeInstanceOf(ForeignUnitError);
      await expect(store.write(name, ownedUnit({ service: ['ExecStart=/bin/true'] }))).rejects.toBeInstanceOf(ForeignUnitError);
    }
    expect(await fs.readFile(path.join(dir, 'admin.service'), 'utf8')).toBe(FOREIGN);
    expect(await fs.readlink(path.join(dir, 'masked.service'))).toBe('/dev/null');

    expect(await store.remove('sdw-default-web-a.service')).toBe(true);
    expect(await store.remove('sdw-default-web-a.service')).toBe(false);
    expect((await fs.readdir(dir)).sort()).toEqual([
      'admin.service',
      'fake.service',
      'masked.service',
      'sdnode.target.wants',
      'sdw-default-web-link.service',
    ]);
  });

  it('refuses content without the marker and names that are paths', async () => {
    await expect(store.write('x.service', FOREIGN)).rejects.toThrow(/no valid X-SDW-Owner marker/);
    await expect(store.write('../x.service', ownedUnit({ service: [] }))).rejects.toThrow(/invalid unit file name/);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('names the path and errno when the directory refuses the write', async () => {
    execFileSync('chattr', ['+i', dir]); // immutable: even root gets EPERM
    const err = await store.write('sdw-default-web-a.service', ownedUnit({ service: [] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnitStoreError);
    expect(err).toMatchObject({ errno: 'EPERM', path: path.join(dir, 'sdw-default-web-a.service') });
    expect((err as Error).message).toMatch(/cannot write .*sdw-default-web-a\.service: EPERM/);
  });

  it('names the path when the directory is missing', async () => {
    const missing = new UnitFileStore(path.join(dir, 'nope'));
    await expect(missing.listOwned()).rejects.toMatchObject({ errno: 'ENOENT', path: path.join(dir, 'nope') });
  });

  it('sweeps only its own temp files', async () => {
    await fs.writeFile(path.join(dir, '.sdw-default-a.service.abc.sdw-tmp'), 'x');
    await fs.writeFile(path.join(dir, '.other-hidden'), 'x');
    expect(await store.sweepTemp()).toBe(1);
    expect(await fs.readdir(dir)).toEqual(['.other-hidden']);
  });
});
