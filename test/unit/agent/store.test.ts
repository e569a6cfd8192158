// The agent's batch write path (UnitFileStore.writeMany) on a scratch directory:
// many files with one directory fsync, per-file errors, foreign files untouched.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ForeignUnitError } from '../../../src/systemd/errors.js';
import { UnitFileStore } from '../../../src/systemd/unitStore.js';

const owned = (n: number): string => `[Unit]\nX-SDW-Owner=default/w\nX-SDW-Hash=h${n}\n[Service]\nExecStart=/bin/true\n`;

describe('UnitFileStore.writeMany', () => {
  let dir: string;
  let store: UnitFileStore;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdw-store-'));
    store = new UnitFileStore(dir);
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes every file, leaves no temp file, and lists only owned files', async () => {
    await fs.writeFile(path.join(dir, 'foreign.service'), '[Service]\nExecStart=/bin/true\n');
    const files = Array.from({ length: 50 }, (_, i) => ({ name: `sdw-default_w_u${i}.service`, content: owned(i) }));
    const errors = await store.writeMany(files);
    expect(errors.size).toBe(0);
    const listed = await store.listOwned();
    expect(listed.map((f) => f.name).sort()).toEqual(files.map((f) => f.name).sort());
    expect(listed.find((f) => f.name === 'sdw-default_w_u7.service')?.content).toBe(owned(7));
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.sdw-tmp'))).toEqual([]);
    expect(await fs.readFile(path.join(dir, 'foreign.service'), 'utf8')).toBe('[Service]\nExecStart=/bin/true\n');
  });

  it('reports a foreign file per file and still writes the others', async () => {
    await fs.writeFile(path.join(dir, 'sdw-default_w_a.service'), '[Service]\nExecStart=/bin/false\n');
    const errors = await store.writeMany([
      { name: 'sdw-default_w_a.service', content: owned(1) },
      { name: 'sdw-default_w_b.service', content: owned(2) },
    ]);
    expect([...errors.keys()]).toEqual(['sdw-default_w_a.service']);
    expect(errors.get('sdw-default_w_a.service')).toBeInstanceOf(ForeignUnitError);
    expect(await fs.readFile(path.join(dir, 'sdw-default_w_a.service'), 'utf8')).toBe('[Service]\nExecStart=/bin/false\n');
    expect(await fs.readFile(path.join(dir, 'sdw-default_w_b.service'), 'utf8')).toBe(owned(2));
  });

  it('names the path and errno when the directory cannot be written', async () => {
    const errors = await new UnitFileStore(path.join(dir, 'missing')).writeMany([{ name: 'sdw-default_w_a.service', content: owned(1) }]);
    expect(errors.get('sdw-default_w_a.service')?.message).toBe(
      `unit store: cannot write ${path.join(dir, 'missing', 'sdw-default_w_a.service')}: ENOENT (no such file or directory)`,
    );
  });
});
