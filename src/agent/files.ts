// The files beside the units (SystemdUnitSet spec.files): written by the agent
// under its files root (the host's /etc/sdw, which only the operator writes),
// before the units that use them start or restart. And the node's sealing key.
//
// - Paths: a child's files lie in /etc/sdw/<child's namespace>/<workload>/, or
//   outside /etc/sdw where admission allowed it (src/api/filePaths.ts): those
//   are outsideFiles.ts's (under --node-root, no links followed, nothing
//   overwritten or removed that the agent did not write). Anywhere else in
//   /etc/sdw, under a forbidden directory or the agent's own, is refused (a
//   child is the controller's, but the agent checks).
// - Writes are atomic (temp file, fchown, fchmod, fsync, rename); nothing is
//   ever world-readable while being written (created 0600, then the mode).
// - Secret values arrive sealed for this node's key (src/sealing) and are opened
//   here, in memory; a plaintext is never logged and never leaves the file.
// - Files no child names are removed, and emptied directories with them, only
//   after the first complete list (as unit files).
import { randomBytes, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FILE_KEYS } from '../api/markers.js';
import { FILES_ROOT, forbiddenMessage, forbiddenPrefixOf, isOutsideFilesRoot, isUnder } from '../api/filePaths.js';
import { LABEL_WORKLOAD, type DeliveredFile, type SystemdUnitSet } from '../api/types.js';
import { generateNodeKey, keyFingerprint, nodeKeyFromPem, open, sealAad } from '../sealing/seal.js';
import { OutsideFiles, type OutsideWrite } from './outsideFiles.js';

export interface NodeKey {
  privateKey: KeyObject;
  /** Base64 raw X25519 public key: published in every child's status.sealingKey. */
  publicKey: string;
  fingerprint: string;
}

/** The node's key pair: read from stateDir, made there (0600, in a 0700 directory) at first start. */
export async function loadOrCreateNodeKey(stateDir: string): Promise<NodeKey> {
  const file = path.join(stateDir, 'sealing-key.pem');
  let pem: string;
  try {
    pem = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, generateNodeKey().privatePem, { mode: 0o600, flag: 'wx' });
    await fs.rename(tmp, file);
    pem = await fs.readFile(file, 'utf8');
  }
  const k = nodeKeyFromPem(pem);
  return { ...k, fingerprint: keyFingerprint(k.publicKey) };
}

/** User and group names to ids, from the node's passwd and group files. */
export class UserDb {
  constructor(private readonly etcDir = '/etc') {}

  async uid(name: string): Promise<{ uid: number; gid: number }> {
    if (/^[0-9]+$/.test(name)) return { uid: Number(name), gid: Number(name) };
    const row = await this.find('passwd', name);
    if (!row) throw new Error(`user ${name} does not exist on this node`);
    return { uid: Number(row[2]), gid: Number(row[3]) };
  }

  async gid(name: string): Promise<number> {
    if (/^[0-9]+$/.test(name)) return Number(name);
    const row = await this.find('group', name);
    if (!row) throw new Error(`group ${name} does not exist on this node`);
    return Number(row[2]);
  }

  private async find(db: 'passwd' | 'group', name: string): Promise<string[] | undefined> {
    const text = await fs.readFile(path.join(this.etcDir, db), 'utf8');
    return text
      .split('\n')
      .map((l) => l.split(':'))
      .find((r) => r[0] === name);
  }
}

/** The files a unit file says its unit uses (X-SDW-File-*= <path> <digest>). */
export function filesUsedBy(unitContent: string): string[] {
  const keys = new Set<string>(Object.values(FILE_KEYS));
  const out: string[] = [];
  for (const line of unitContent.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && keys.has(line.slice(0, eq)))
      out.push(
        line
          .slice(eq + 1)
          .split(' ')[0]!
          .replace(/%%/g, '%'),
      );
  }
  return out;
}

/** The workload a child is of, as "<namespace>/<workload>". */
function childOwner(child: SystemdUnitSet): string | undefined {
  const ns = child.metadata.namespace;
  const wl = child.metadata.ownerReferences?.find((o) => o.controller)?.name ?? child.metadata.labels?.[LABEL_WORKLOAD];
  return ns && wl ? `${ns}/${wl}` : undefined;
}

/** The workload directory a child's files in /etc/sdw must lie in. */
function childDir(child: SystemdUnitSet): string | undefined {
  const owner = childOwner(child);
  return owner ? `${FILES_ROOT}/${owner}/` : undefined;
}

export interface OutsideOptions {
  /** The host path under which the node's paths live (--node-root; '/' on the host). */
  nodeRoot: string;
  /** The agent's state directory: the record of what it wrote outside /etc/sdw. */
  stateDir: string;
  /** The agent's own directories as node paths (units, state, artifacts): never a file path. */
  ownDirs: readonly string[];
}

interface Wanted {
  file: DeliveredFile;
  namespace: string;
}

export class FileDelivery {
  constructor(
    /** The host directory that is /etc/sdw on the node. */
    readonly root: string,
    /** undefined: the key could not be read or made (keyError says why); secret files then fail. */
    readonly key: NodeKey | undefined,
    private readonly users = new UserDb(),
    private readonly keyError?: string,
    /** Files outside /etc/sdw; without it they are refused (no --node-root or state directory known). */
    private readonly outsideOpts?: OutsideOptions,
  ) {
    this.outside = outsideOpts ? new OutsideFiles(outsideOpts.nodeRoot, outsideOpts.stateDir) : undefined;
  }

  private readonly outside: OutsideFiles | undefined;

  /** Where a node path is on the host (the agent may run with the node's /etc/sdw elsewhere). */
  hostPath(nodePath: string): string {
    return path.join(this.root, nodePath.slice(FILES_ROOT.length));
  }

  /**
   * Writes every file the children name; removes the ones none names (once
   * removeUnlisted). Returns the node paths that could not be written, with why
   * (never a value: a secret's plaintext appears nowhere but in its file).
   * A held child (its artifacts are not staged: its units keep the previous
   * version) keeps its workload directory exactly as it is: nothing written,
   * nothing removed.
   */
  async sync(
    children: readonly SystemdUnitSet[],
    removeUnlisted: boolean,
    held: (child: SystemdUnitSet) => boolean = () => false,
  ): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    const wanted = new Map<string, Wanted>();
    const keep: string[] = [];
    /** Outside /etc/sdw: path -> the owners naming it (two or more: none writes it). */
    const outside = new Map<string, Array<Wanted & { owner: string }>>();
    const keepOwners = new Set<string>();
    for (const c of children) {
      if (c.metadata.deletionTimestamp) continue;
      const dir = childDir(c);
      const owner = childOwner(c);
      if (held(c)) {
        if (dir) keep.push(this.hostPath(dir));
        if (owner) keepOwners.add(owner);
        continue;
      }
      for (const f of c.spec.files ?? []) {
        const refused = this.refusal(f.path, dir, owner);
        const w = { file: f, namespace: c.metadata.namespace! };
        if (refused) failed.set(f.path, refused);
        // refusal() saw the owner of a path outside /etc/sdw.
        else if (isOutsideFilesRoot(f.path)) outside.set(f.path, [...(outside.get(f.path) ?? []), { ...w, owner: owner! }]);
        else wanted.set(f.path, w);
      }
    }
    await Promise.all(
      [...wanted.values()].map(async (w) => {
        try {
          await this.write(w);
        } catch (e) {
          failed.set(w.file.path, e instanceof Error ? e.message : String(e));
        }
      }),
    );
    if (removeUnlisted) await this.removeUnlisted(this.root, new Set([...wanted.keys()].map((p) => this.hostPath(p))), keep);
    if (this.outside) for (const [p, why] of await this.syncOutside(this.outside, outside, keepOwners, removeUnlisted)) failed.set(p, why);
    return failed;
  }

  /** Files outside /etc/sdw: a path two workloads name is written for neither; the rest as outsideFiles.ts says. */
  private async syncOutside(
    files: OutsideFiles,
    outside: Map<string, Array<Wanted & { owner: string }>>,
    keepOwners: ReadonlySet<string>,
    removeUnlisted: boolean,
  ): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    const writes = new Map<string, OutsideWrite>();
    for (const [p, ws] of outside) {
      const owners = [...new Set(ws.map((w) => w.owner))].sort();
      if (owners.length > 1) {
        failed.set(p, `refused: ${p} is named by ${owners.length} workloads (${owners.join(', ')}); none of them gets it`);
        continue;
      }
      try {
        writes.set(p, await this.outsideWrite(ws[0]!));
      } catch (e) {
        failed.set(p, e instanceof Error ? e.message : String(e));
      }
    }
    // Every path a child names stays (one that failed now keeps the file written before), as do held children's.
    for (const [p, why] of await files.sync(writes, new Set(outside.keys()), keepOwners, removeUnlisted)) failed.set(p, why);
    return failed;
  }

  /** Why the agent will not write a child's file at this path, if it will not. */
  private refusal(p: string, dir: string | undefined, owner: string | undefined): string | undefined {
    if (p.split('/').some((x) => x === '..' || x === '.') || p.includes('//') || !p.startsWith('/'))
      return `refused: ${p} is not a normalised absolute path`;
    const forbidden = forbiddenPrefixOf(p) ?? this.outsideOpts?.ownDirs.find((d) => isUnder(p, d));
    if (forbidden) return `refused: ${forbiddenMessage(p, forbidden)}`;
    if (isOutsideFilesRoot(p)) {
      if (!this.outside) return `refused: ${p} is outside ${FILES_ROOT} and this agent has no --node-root`;
      return owner ? undefined : `refused: ${p}: the child names no workload to record it for`;
    }
    if (!dir || !p.startsWith(dir)) return `refused: ${p} is outside ${dir ?? 'the workload directory'}`;
    return undefined;
  }

  private async outsideWrite(w: Wanted & { owner: string }): Promise<OutsideWrite> {
    const f = w.file;
    const content = this.content(w);
    const { uid, gid: userGid } = f.owner ? await this.users.uid(f.owner) : { uid: 0, gid: 0 };
    const gid = f.group ? await this.users.gid(f.group) : userGid;
    return { owner: w.owner, content, mode: parseInt(f.mode, 8) & 0o7777, uid, gid };
  }

  private content(w: Wanted): Buffer {
    const f = w.file;
    if (f.content !== undefined) return Buffer.from(f.content, 'utf8');
    if (!this.key) throw new Error(`this node has no sealing key: ${this.keyError ?? 'unknown'}`);
    if (f.sealed === undefined || f.sealedFor !== this.key.fingerprint) {
      throw new Error(`waiting for the controller to seal ${f.source ?? f.path} for this node's key`);
    }
    try {
      return open(this.key.privateKey, this.key.publicKey, f.sealed, sealAad(w.namespace, f.path));
    } catch {
      throw new Error(`the sealed value of ${f.path} does not open with this node's key`);
    }
  }

  private async write(w: Wanted): Promise<void> {
    const f = w.file;
    const content = this.content(w);
    const mode = parseInt(f.mode, 8) & 0o7777;
    const { uid, gid: userGid } = f.owner ? await this.users.uid(f.owner) : { uid: 0, gid: 0 };
    const gid = f.group ? await this.users.gid(f.group) : userGid;
    const file = this.hostPath(f.path);
    const st = await fs.lstat(file).catch(() => undefined);
    if (st && !st.isFile()) throw new Error(`${f.path} exists and is not a regular file`);
    // Without CAP_DAC_OVERRIDE (the agent's pod drops it) another user's 0600 file cannot be read: then it is rewritten.
    const same =
      st &&
      (st.mode & 0o7777) === mode &&
      st.uid === uid &&
      st.gid === gid &&
      (await fs.readFile(file).catch(() => undefined))?.equals(content);
    if (same) return;
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.sdw-tmp`);
    const h = await fs.open(tmp, 'wx', 0o600);
    try {
      await h.writeFile(content);
      // chmod first: after the chown the file is no longer ours to chmod without CAP_FOWNER.
      await h.chmod(mode);
      await h.chown(uid, gid);
      await h.sync();
      await h.close();
      await fs.rename(tmp, file);
    } catch (e) {
      await h.close().catch(() => undefined);
      await fs.rm(tmp, { force: true });
      throw e;
    }
  }

  /** Removes files under dir that are not wanted, and directories left empty (except kept ones); never follows a link. */
  private async removeUnlisted(dir: string, wanted: Set<string>, keep: readonly string[]): Promise<boolean> {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    let empty = true;
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (keep.some((k) => `${p}/`.startsWith(k))) {
        empty = false;
      } else if (e.isDirectory()) {
        if (await this.removeUnlisted(p, wanted, keep)) await fs.rmdir(p).catch(() => undefined);
        else empty = false;
      } else if (!wanted.has(p)) {
        await fs.rm(p, { force: true });
      } else empty = false;
    }
    return empty;
  }
}
