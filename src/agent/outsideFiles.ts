// Files a policy allows outside /etc/sdw (spec.files[].path elsewhere, issue 15):
// there the node has files of its own, so the agent is careful in ways it need
// not be in its own /etc/sdw:
//
// - Host paths are <nodeRoot><path> (--node-root: '/' when the agent runs on the
//   host, the mount point of the host's / when it runs in a pod).
// - It never follows a symbolic link: every directory from nodeRoot down is
//   lstat'ed and must be a real directory (it creates none: a missing one is an
//   error naming it), a link at the path itself is refused, not replaced, and
//   the temp file is created O_EXCL (never through a link).
// - It never overwrites a file it did not write: a file at the path must be in
//   its record (written-files.json in the state dir, 0600) with the same device,
//   inode and ctime; otherwise the path fails, naming it, and the file stays as
//   it is. So a file edited on the node (its ctime changes) is the editor's
//   from then on: neither overwritten nor removed (unlike /etc/sdw, where the
//   agent puts its files back).
// - The record is written before the file and never holds a path the agent did
//   not write: a failed write removes its temp file and the entry it added; a
//   crash mid-write is cleaned at the next load (temp file removed, an entry
//   whose file is not the recorded one dropped). Removal (a file no child
//   names any more, a deleted workload) unlinks only a recorded path whose
//   file is still the one written.
// - Two workloads naming one path: neither writes it (both fail, naming it).
//
// Left open (as for any root process writing into directories others may
// write): a directory swapped for a link between the lstat and the open.
// Directories writable only by root (those a policy should name) close it.
import { randomBytes } from 'node:crypto';
import { constants, promises as fs, type BigIntStats } from 'node:fs';
import path from 'node:path';

/**
 * Which file the agent wrote: its inode and its ctime right after the rename (an
 * inode number alone comes back for the next file made after a removal; the
 * ctime changes with any write, chmod or chown on the node). No ctime: the
 * moment between a rename and the record of its ctime (a crash there is
 * settled at the next load).
 */
interface FileId {
  ino: string;
  ctime?: string;
}

/** One path the agent wrote outside /etc/sdw. */
interface Entry {
  /** "<namespace>/<workload>" whose child names the path. */
  owner: string;
  dev: string;
  /** The file the agent wrote (two while a write replaces it: the old one until the rename, the new one after). */
  ids: FileId[];
  /** A temp file being written beside the path (host path), until the rename. */
  tmp?: string;
}

export interface OutsideWrite {
  owner: string;
  content: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

const RECORD = 'written-files.json';

export class OutsideFiles {
  private entries = new Map<string, Entry>();
  private loaded = false;

  constructor(
    /** The host path under which node paths live ('/' on the host). */
    private readonly nodeRoot: string,
    /** The agent's state directory (the record lives there, 0600). */
    private readonly stateDir: string,
  ) {}

  /** Where a node path is on this host. */
  hostPath(nodePath: string): string {
    return path.join(this.nodeRoot, nodePath);
  }

  /**
   * Writes each path of `writes` (node path -> what), then (once removeUnlisted)
   * removes the recorded paths that are neither named (`named`: every path a
   * child names, written now or not) nor of a held child (`keepOwners`).
   * Returns the paths that failed, with why.
   */
  async sync(
    writes: ReadonlyMap<string, OutsideWrite>,
    named: ReadonlySet<string>,
    keepOwners: ReadonlySet<string>,
    removeUnlisted: boolean,
  ): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    try {
      await this.load();
    } catch (e) {
      // Without the record nothing outside /etc/sdw is known to be the agent's: touch nothing.
      for (const p of writes.keys()) failed.set(p, e instanceof Error ? e.message : String(e));
      return failed;
    }
    // One at a time: each write saves the record around it.
    for (const [p, w] of writes) {
      try {
        await this.write(p, w);
      } catch (e) {
        failed.set(p, e instanceof Error ? e.message : String(e));
      }
    }
    if (removeUnlisted) {
      let changed = false;
      for (const [p, e] of [...this.entries]) {
        if (named.has(p) || keepOwners.has(e.owner)) continue;
        try {
          await this.removeWritten(p, e);
        } catch {
          continue; // kept in the record: the next pass tries again
        }
        this.entries.delete(p);
        changed = true;
      }
      if (changed) await this.save();
    }
    return failed;
  }

  /** Unlinks the path if the file there is still the one written, reached without a link. */
  private async removeWritten(nodePath: string, e: Entry): Promise<void> {
    const parentsOk = await this.checkParents(nodePath).then(
      () => true,
      () => false,
    );
    if (!parentsOk) return; // a directory became a link or went away: leave whatever is there
    const st = await lstat(this.hostPath(nodePath));
    if (st && isOurs(st, e)) await fs.unlink(this.hostPath(nodePath));
  }

  /** Reads the record once; finishes what a crash interrupted (see the header). */
  private async load(): Promise<void> {
    if (this.loaded) return;
    let raw: Record<string, Entry> = {};
    try {
      raw = JSON.parse(await fs.readFile(path.join(this.stateDir, RECORD), 'utf8')) as Record<string, Entry>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${RECORD}: ${String(e)}`);
    }
    let changed = false;
    for (const [p, e] of Object.entries(raw)) {
      if (e.tmp) {
        const t = await lstat(e.tmp);
        // The agent made it O_EXCL and named it at random: its own.
        if (t?.isFile()) await fs.unlink(e.tmp).catch(() => undefined);
        delete e.tmp;
        changed = true;
      }
      const st = await lstat(this.hostPath(p));
      if (st && isOurs(st, e)) {
        const id = idOf(st);
        if (e.ids.length !== 1 || e.ids[0]!.ctime !== id.ctime) changed = true;
        this.entries.set(p, { ...e, ids: [id] });
      } else changed = true; // absent, or not the file written: no longer the agent's
    }
    this.loaded = true;
    if (changed) await this.save();
  }

  /** The record, atomically (temp + rename), 0600 in a 0700 directory. */
  private async save(): Promise<void> {
    await fs.mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.stateDir, RECORD);
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const h = await fs.open(tmp, 'wx', 0o600);
    try {
      await h.writeFile(JSON.stringify(Object.fromEntries(this.entries), null, 1));
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, file);
  }

  /** Every directory from nodeRoot to the file's: a real directory, never a link. */
  private async checkParents(nodePath: string): Promise<void> {
    const parts = path.dirname(nodePath).split('/').filter(Boolean);
    let node = '';
    for (const part of parts) {
      node = `${node}/${part}`;
      const st = await lstat(this.hostPath(node));
      if (!st) throw new Error(`directory ${node} does not exist on this node (the agent creates no directories outside /etc/sdw)`);
      if (st.isSymbolicLink()) throw new Error(`${node} is a symbolic link: the agent never follows one (${nodePath} not written)`);
      if (!st.isDirectory()) throw new Error(`${node} is not a directory (${nodePath} not written)`);
    }
  }

  private async write(nodePath: string, w: OutsideWrite): Promise<void> {
    await this.checkParents(nodePath);
    const host = this.hostPath(nodePath);
    const st = await lstat(host);
    const prev = await this.claim(nodePath, st, w.owner);
    if (st && (await upToDate(host, st, w))) return;
    await this.replace(nodePath, host, w, prev);
  }

  /**
   * What is at the path may be written over: nothing, or the file the agent
   * wrote there (its entry, now for this owner, is returned). Anything else throws.
   */
  private async claim(nodePath: string, st: BigIntStats | undefined, owner: string): Promise<Entry | undefined> {
    const prev = this.entries.get(nodePath);
    if (st?.isSymbolicLink()) throw new Error(`${nodePath} is a symbolic link: the agent never follows nor replaces one`);
    if (st && !st.isFile()) throw new Error(`${nodePath} exists and is not a regular file: it is left as it is`);
    if (st && !(prev && isOurs(st, prev))) {
      if (prev) {
        // Replaced on the node since it was written: that file is not the agent's.
        this.entries.delete(nodePath);
        await this.save();
      }
      throw new Error(
        `${nodePath} exists and was not written by the agent: it is never overwritten (remove it on the node to let the agent write it)`,
      );
    }
    if (!prev || prev.owner === owner) return prev;
    // Written for a workload that no longer names it (a path two name fails before this).
    const moved = { ...prev, owner };
    this.entries.set(nodePath, moved);
    await this.save();
    return moved;
  }

  /** Writes a temp file beside the path and renames it over, recording each step first (see the header). */
  private async replace(nodePath: string, host: string, w: OutsideWrite, before: Entry | undefined): Promise<void> {
    const tmp = path.join(path.dirname(host), `.${path.basename(host)}.${randomBytes(6).toString('hex')}.sdw-tmp`);
    // The path (and the temp file's name) are recorded before anything is created.
    this.entries.set(nodePath, { owner: w.owner, dev: before?.dev ?? '', ids: before?.ids ?? [], tmp });
    await this.save();
    try {
      const h = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      let written: BigIntStats;
      try {
        await h.writeFile(w.content);
        // chmod first: after the chown the file is no longer ours to chmod without CAP_FOWNER.
        await h.chmod(w.mode);
        await h.chown(w.uid, w.gid);
        await h.sync();
        written = await h.stat({ bigint: true });
      } finally {
        await h.close();
      }
      // Both inodes are the agent's across the rename: the old file until it happens, the new one after.
      const dev = String(written.dev);
      const ino = String(written.ino);
      this.entries.set(nodePath, { owner: w.owner, dev, ids: [...(before?.ids ?? []), { ino }], tmp });
      await this.save();
      await fs.rename(tmp, host);
      const after = await lstat(host);
      if (!after || String(after.ino) !== ino) throw new Error(`${nodePath} changed on the node while it was written`);
      this.entries.set(nodePath, { owner: w.owner, dev, ids: [idOf(after)] });
      await this.save();
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      // Back to what was true before: the earlier file's entry, or none (never a path not written).
      if (before) this.entries.set(nodePath, before);
      else this.entries.delete(nodePath);
      await this.save().catch(() => undefined);
      throw e;
    }
  }
}

/** The file already has this content, mode and owner (unreadable: no, it is rewritten). */
async function upToDate(host: string, st: BigIntStats, w: OutsideWrite): Promise<boolean> {
  if (Number(st.mode & 0o7777n) !== w.mode || Number(st.uid) !== w.uid || Number(st.gid) !== w.gid) return false;
  return (await readNoFollow(host))?.equals(w.content) ?? false;
}

function idOf(st: BigIntStats): FileId {
  return { ino: String(st.ino), ctime: String(st.ctimeNs) };
}

function isOurs(st: BigIntStats, e: Entry): boolean {
  const id = idOf(st);
  return st.isFile() && String(st.dev) === e.dev && e.ids.some((i) => i.ino === id.ino && (i.ctime === undefined || i.ctime === id.ctime));
}

async function lstat(p: string): Promise<BigIntStats | undefined> {
  try {
    return await fs.lstat(p, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The file's content, or undefined when it cannot be read (then it is rewritten); never through a link. */
async function readNoFollow(p: string): Promise<Buffer | undefined> {
  try {
    const h = await fs.open(p, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await h.readFile();
    } finally {
      await h.close();
    }
  } catch {
    return undefined;
  }
}
