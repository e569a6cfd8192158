// A host that cannot run VM nodes makes the VM suite fail, saying what is
// missing and how to get it; it never skips. No VM is booted here.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { vmImage } from '../../harness/vmNode.js';

describe('a host without what VM nodes need', () => {
  const saved = { PATH: process.env.PATH, SDW_CACHE: process.env.SDW_CACHE };
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.SDW_CACHE === undefined) delete process.env.SDW_CACHE;
    else process.env.SDW_CACHE = saved.SDW_CACHE;
  });

  it('fails naming the guest image and the command that builds it', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'sdw-no-image-'));
    try {
      process.env.SDW_CACHE = empty;
      await expect(vmImage()).rejects.toThrow(/the VM guest image is not built .*: run 'make vm-image' \(hack\/vm\/build-image\.sh\)/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('fails naming QEMU when it is not installed', async () => {
    // A PATH without QEMU (Debian's /bin is /usr/bin, where QEMU is installed).
    const bin = await mkdtemp(path.join(os.tmpdir(), 'sdw-no-qemu-'));
    try {
      process.env.PATH = bin;
      await expect(vmImage()).rejects.toThrow(/VM nodes need qemu-system-x86_64, which this host lacks: run 'make vm-image'/);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});
