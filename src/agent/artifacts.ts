// The node's artifacts (src/api/artifacts.ts): staged before any unit of a
// revision changes, activated by an atomic link, removed when no child on the
// node refers to them any more.
//
// Layout under the agent's --artifact-dir (the node's /var/lib/sdw/artifacts):
//   <namespace>/<workload>/<artifact>/<sha256>/   one verified version (the cache)
//   <namespace>/<workload>/<artifact>/current     -> <sha256> (relative link)
//   .staging/                                     downloads and unpacking in progress
// A version directory exists only complete and verified: it is unpacked beside
// it and renamed into place. `current` is replaced by renaming a new link over
// it, so a unit never sees a half-switched version.
//
// Failures: a download that fails (HTTP error, interrupted body, too large, too
// slow) or whose digest differs is retried with a back-off per (url, digest),
// 1 s doubling to 5 min; until then its child is blocked: syncNode keeps that
// child's units exactly as they are on disk, running the previous version.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CURRENT_LINK } from '../api/artifacts.js';
import { LABEL_WORKLOAD, type ChildArtifact, type SystemdUnitSet } from '../api/types.js';
import { objectKey } from '../kube/informer.js';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import { unpackTarGz, unpackZip } from './archive.js';
import { download } from './download.js';

/** Unpacked content may be this many times the download's maxSize (a gzip bomb stops there). */
export const UNPACK_RATIO = 10;
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 300_000;
const STAGING = '.staging';

interface Failure {
  message: string;
  attempts: number;
  nextAt: number;
}

export interface StageResult {
  /** Child key -> why its artifacts are not all staged (the child's units must not change). */
  blocked: Map<string, string>;
  /** When the soonest blocked artifact may be tried again, in ms from now. */
  retryInMs?: number;
}

/** Where one child's artifact lives on the node. */
function artifactPath(root: string, child: SystemdUnitSet, a: ChildArtifact): string | undefined {
  const ns = child.metadata.namespace ?? '';
  const wl = child.metadata.labels?.[LABEL_WORKLOAD] ?? '';
  const label = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  if (!label.test(ns) || !label.test(wl) || !label.test(a.name) || !/^[0-9a-f]{64}$/.test(a.sha256)) return undefined;
  return path.join(root, ns, wl, a.name);
}

export class ArtifactStore {
  private readonly failures = new Map<string, Failure>();

  constructor(
    readonly root: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Downloads, verifies and unpacks every artifact of these children that is not on the node yet. */
  async stage(children: readonly SystemdUnitSet[]): Promise<StageResult> {
    const blocked = new Map<string, string>();
    let soonest: number | undefined;
    await Promise.all(
      children.map(async (c) => {
        const problems: string[] = [];
        for (const a of c.spec.artifacts ?? []) {
          const dir = artifactPath(this.root, c, a);
          if (!dir) {
            problems.push(`artifact ${a.name}: not a valid artifact for ${objectKey(c)}`);
            continue;
          }
          const problem = await this.stageOne(dir, a);
          if (problem) {
            problems.push(problem.message);
            soonest = Math.min(soonest ?? Infinity, problem.nextAt);
          }
        }
        if (problems.length) blocked.set(objectKey(c), problems.join('; '));
      }),
    );
    return { blocked, ...(soonest !== undefined ? { retryInMs: Math.max(0, soonest - this.now()) } : {}) };
  }

  /** Points each artifact's `current` at this child's version (staged before). */
  async activate(child: SystemdUnitSet): Promise<void> {
    for (const a of child.spec.artifacts ?? []) {
      const dir = artifactPath(this.root, child, a);
      if (!dir) continue;
      const link = path.join(dir, CURRENT_LINK);
      if ((await fs.readlink(link).catch(() => undefined)) === a.sha256) continue;
      const tmp = path.join(dir, `.${CURRENT_LINK}-${randomBytes(4).toString('hex')}`);
      await fs.symlink(a.sha256, tmp);
      await fs.rename(tmp, link);
      this.log.info('artifact activated', { child: objectKey(child), artifact: a.name, sha256: a.sha256 });
    }
  }

  /**
   * Removes every version no child refers to: a child refers to its own digest
   * when that is staged, and to what its `current` link points at (a blocked
   * child still runs that one). Directories of artifacts and workloads no child
   * has any more go too, as does anything left in staging.
   */
  async sweep(children: readonly SystemdUnitSet[]): Promise<void> {
    const keep = new Set<string>();
    for (const c of children) {
      for (const a of c.spec.artifacts ?? []) {
        const dir = artifactPath(this.root, c, a);
        if (!dir) continue;
        keep.add(path.join(dir, a.sha256));
        const current = await fs.readlink(path.join(dir, CURRENT_LINK)).catch(() => undefined);
        if (current) keep.add(path.join(dir, current));
      }
    }
    await fs.rm(path.join(this.root, STAGING), { recursive: true, force: true });
    for (const ns of await dirs(this.root)) {
      for (const wl of await dirs(path.join(this.root, ns))) {
        for (const art of await dirs(path.join(this.root, ns, wl))) {
          const dir = path.join(this.root, ns, wl, art);
          const versions = (await dirs(dir)).filter((v) => !keep.has(path.join(dir, v)));
          for (const v of versions) {
            await fs.rm(path.join(dir, v), { recursive: true, force: true });
            this.log.info('artifact version removed', { dir, sha256: v });
          }
          if ((await dirs(dir)).length === 0) await fs.rm(dir, { recursive: true, force: true });
        }
        await rmdirIfEmpty(path.join(this.root, ns, wl));
      }
      await rmdirIfEmpty(path.join(this.root, ns));
    }
  }

  private async stageOne(dir: string, a: ChildArtifact): Promise<Failure | undefined> {
    const version = path.join(dir, a.sha256);
    if (await isDir(version)) return undefined; // cached: verified when it was staged
    const key = `${a.url} ${a.sha256}`;
    const failed = this.failures.get(key);
    if (failed && this.now() < failed.nextAt) return failed;
    try {
      await this.fetch(a, dir, version);
      this.failures.delete(key);
      return undefined;
    } catch (err) {
      const attempts = (failed?.attempts ?? 0) + 1;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1));
      const f: Failure = {
        message: `artifact ${a.name}: ${errorMessage(err)}; the node stays on its previous version (attempt ${attempts}, next in ${Math.ceil(delay / 1000)}s)`,
        attempts,
        nextAt: this.now() + delay,
      };
      this.failures.set(key, f);
      this.log.warn('artifact not staged', { artifact: a.name, url: a.url, error: errorMessage(err), attempts });
      return f;
    }
  }

  private async fetch(a: ChildArtifact, dir: string, version: string): Promise<void> {
    const staging = path.join(this.root, STAGING);
    await fs.mkdir(staging, { recursive: true, mode: 0o700 });
    const id = randomBytes(6).toString('hex');
    const file = path.join(staging, `${id}.download`);
    const tree = path.join(staging, `${id}.tree`);
    try {
      let got;
      try {
        got = await download(a.url, file, { maxBytes: a.maxSizeBytes, timeoutMs: a.timeoutSeconds * 1000 });
      } catch (err) {
        throw new Error(`download of ${a.url} failed: ${errorMessage(err)} (expected sha256 ${a.sha256})`);
      }
      if (got.sha256 !== a.sha256) {
        throw new Error(`sha256 mismatch for ${a.url}: expected ${a.sha256}, got ${got.sha256} (${got.bytes} bytes)`);
      }
      await fs.mkdir(tree, { mode: 0o755 });
      try {
        if (a.unpack === 'tar.gz') await unpackTarGz(file, tree, a.maxSizeBytes * UNPACK_RATIO);
        else if (a.unpack === 'zip') await unpackZip(file, tree, a.maxSizeBytes * UNPACK_RATIO);
        else {
          await fs.rename(file, path.join(tree, a.fileName));
          await fs.chmod(path.join(tree, a.fileName), 0o755);
        }
      } catch (err) {
        throw new Error(`unpacking ${a.url} (${a.unpack ?? 'file'}) failed: ${errorMessage(err)}`);
      }
      await fs.mkdir(dir, { recursive: true, mode: 0o755 });
      await fs.chmod(tree, 0o755);
      await fs.rename(tree, version);
      this.log.info('artifact staged', { artifact: a.name, url: a.url, sha256: a.sha256, bytes: got.bytes });
    } finally {
      await fs.rm(file, { force: true });
      await fs.rm(tree, { recursive: true, force: true });
    }
  }
}

async function dirs(p: string): Promise<string[]> {
  const entries = await fs.readdir(p, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
}

async function isDir(p: string): Promise<boolean> {
  return (await fs.lstat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function rmdirIfEmpty(p: string): Promise<void> {
  await fs.rmdir(p).catch(() => undefined);
}
