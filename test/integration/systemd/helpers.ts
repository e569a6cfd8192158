// Shared by the systemd integration tests: real nodes, owned unit files, waiting.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SystemdNode } from '../../harness/systemdNode.js';

export const RUN_ID = `${process.pid}-${randomBytes(3).toString('hex')}`;
// Outside /tmp, /var/tmp and /run: the node mounts those privately.
export const BASE_DIR = path.join(os.homedir(), '.cache/systemd-workload-operator/run', RUN_ID);

export function startNode(name: string): Promise<SystemdNode> {
  return SystemdNode.start({ name, baseDir: BASE_DIR, runId: RUN_ID });
}

/** After every node of the file is stopped: the harness leaves the run directory behind. */
export async function removeRunDir(): Promise<void> {
  await fs.rmdir(BASE_DIR).catch(() => undefined); // only if empty: never someone else's files
}

/** A unit file as the renderer would write it: the marker in [Unit]. */
export function ownedUnit(opts: { workload?: string; service: string[]; install?: string[] }): string {
  const lines = [
    '[Unit]',
    `X-SDW-Owner=default/${opts.workload ?? 'test'}`,
    `X-SDW-Hash=${randomBytes(8).toString('hex')}`,
    '',
    '[Service]',
    ...opts.service,
  ];
  if (opts.install) lines.push('', '[Install]', ...opts.install);
  return lines.join('\n') + '\n';
}

export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last instanceof Error ? String(last) : JSON.stringify(last)}` : ''}`,
  );
}
