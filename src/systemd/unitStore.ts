// UnitFileStore: the agent's files in a unit directory (/etc/systemd/system).
// Invariants:
//   - only files carrying the X-SDW-Owner marker are listed, overwritten or removed;
//     anything else in the directory is invisible to the agent (ForeignUnitError);
//   - a write is atomic: temp file in the same directory, fsync, rename, fsync the
//     directory. systemd never reads a half-written unit, a crash leaves old or new.
//   - file-system failures name the path and errno (ENOSPC, EACCES, EROFS...).
// systemd sees the changes only after Manager.Reload (the caller batches that).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ForeignUnitError, UnitStoreError } from './errors.js';
import { OWNER_KEY, parseOwnerMarker, type OwnerMarker } from '../api/markers.js';
import { isValidUnitFileName } from '../api/names.js';

/** Temp files end in a suffix that is no unit type, so systemd never loads them. */
const TEMP_SUFFIX = '.sdw-tmp';

export interface UnitFile {
  name: string;
  content: string;
  /** undefined: a foreign file. */
  owner?: OwnerMarker;
}

export interface OwnedUnitFile extends UnitFile {
  owner: OwnerMarker;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EIO: 'input/output error',
};

/** Pure: a file-system error -> UnitStoreError naming op, path and errno. */
export function storeError(op: string, file: string, err: unknown): UnitStoreError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = (code && ERRNO_TEXT[code]) ?? (err instanceof Error ? err.message : String(err));
  return new UnitStoreError(op, file, code, detail);
}

export class UnitFileStore {
  constructor(readonly dir: string) {}

  pathOf(name: string): string {
    if (!isValidUnitFileName(name)) throw new Error(`invalid unit file name ${JSON.stringify(name)}`);
    return path.join(this.dir, name);
  }

  /** The file, or undefined when absent. Reading a foreign file is allowed (owner undefined). */
  async read(name: string): Promise<UnitFile | undefined> {
    const file = this.pathOf(name);
    let content: string;
    try {
      const st = await fs.lstat(file);
      // A symlink (masked unit, enablement link) or a directory is never ours.
      if (!st.isFile()) return { name, content: '', owner: undefined };
      content = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw storeError('read', file, e);
    }
    return { name, content, owner: parseOwnerMarker(content) };
  }

  /** Every regular file in the directory that carries the marker; nothing else. */
  async listOwned(): Promise<OwnedUnitFile[]> {
    let entries;
    try {
      entries = await fs.readdir(this.dir, { withFileTypes: true });
    } catch (e) {
      throw storeError('list', this.dir, e);
    }
    const out: OwnedUnitFile[] = [];
    for (const e of entries) {
      if (!e.isFile() || !isValidUnitFileName(e.name)) continue;
      const f = await this.read(e.name);
      if (f?.owner) out.push({ name: f.name, content: f.content, owner: f.owner });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Writes `content` (which must carry the marker) atomically. Returns false when
   * the file already had exactly this content (nothing to reload). Refuses to
   * overwrite a file that is not ours.
   */
  async write(name: string, content: string): Promise<boolean> {
    const changed = await this.writeNoDirSync(name, content);
    if (changed) await this.syncDir();
    return changed;
  }

  /**
   * Writes many files at once (a bounded number in parallel), each atomically,
   * with ONE directory fsync at the end instead of one per file. Per-file errors
   * are returned, never thrown: one bad file does not stop the others.
   */
  async writeMany(files: Array<{ name: string; content: string }>, parallel = 16): Promise<Map<string, Error>> {
    const errors = new Map<string, Error>();
    let changed = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length) {
        const f = files[next++]!;
        try {
          if (await this.writeNoDirSync(f.name, f.content)) changed++;
        } catch (e) {
          errors.set(f.name, e instanceof Error ? e : new Error(String(e)));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, files.length) }, worker));
    if (changed > 0) {
      try {
        await this.syncDir();
      } catch (e) {
        // The renames happened but may not be durable: report it on every file written.
        for (const f of files) if (!errors.has(f.name)) errors.set(f.name, e as Error);
      }
    }
    return errors;
  }

  private async writeNoDirSync(name: string, content: string): Promise<boolean> {
    const file = this.pathOf(name);
    if (!parseOwnerMarker(content)) {
      throw new Error(`refusing to write ${file}: content has no valid ${OWNER_KEY} marker in [Unit]`);
    }
    const existing = await this.read(name);
    if (existing && !existing.owner) throw new ForeignUnitError(file, 'overwrite');
    if (existing?.content === content) return false;

    const tmp = path.join(this.dir, `.${name}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(tmp, 'wx', 0o644);
      await handle.writeFile(content, 'utf8');
      await handle.sync();
      await handle.close();
      handle = undefined;
      await fs.rename(tmp, file);
    } catch (e) {
      await handle?.close().catch(() => undefined);
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw storeError('write', file, e);
    }
    return true;
  }

  /** Removes an owned file. false when absent; ForeignUnitError when not ours. */
  async remove(name: string): Promise<boolean> {
    const file = this.pathOf(name);
    const existing = await this.read(name);
    if (!existing) return false;
    if (!existing.owner) throw new ForeignUnitError(file, 'remove');
    try {
      await fs.unlink(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw storeError('remove', file, e);
    }
    await this.syncDir();
    return true;
  }

  /** Removes temp files left by a crash mid-write (only our own naming pattern). */
  async sweepTemp(): Promise<number> {
    let n = 0;
    for (const e of await fs.readdir(this.dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isFile() && e.name.startsWith('.') && e.name.endsWith(TEMP_SUFFIX)) {
        await fs.rm(path.join(this.dir, e.name), { force: true });
        n++;
      }
    }
    return n;
  }

  /** The rename is durable only once the directory entry is on disk. */
  private async syncDir(): Promise<void> {
    let dir: fs.FileHandle | undefined;
    try {
      dir = await fs.open(this.dir, 'r');
      await dir.sync();
    } catch (e) {
      throw storeError('sync', this.dir, e);
    } finally {
      await dir?.close().catch(() => undefined);
    }
  }
}
