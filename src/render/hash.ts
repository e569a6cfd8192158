// Content hashes (sha256, hex). Pure: node:crypto only.
import { createHash } from 'node:crypto';
import type { ChildArtifact, RenderedUnit } from '../api/types.js';
import { HASH_KEY } from '../api/markers.js';

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

const HASH_LINE = new RegExp(`^${HASH_KEY}=.*\\n`, 'gm');

/** A unit file's content without its X-SDW-Hash line (what the hash covers). */
export function stripHashLine(content: string): string {
  return content.replace(HASH_LINE, '');
}

function hashFiles(files: readonly RenderedUnit[], strip: boolean): string {
  const h = createHash('sha256');
  for (const f of files) {
    const content = strip ? stripHashLine(f.content) : f.content;
    // Length-prefixed, so that no two different file lists hash the same stream.
    h.update(`${Buffer.byteLength(f.name)}:${f.name}\n${Buffer.byteLength(content)}:`, 'utf8');
    h.update(content, 'utf8');
    h.update('\n', 'utf8');
  }
  return h.digest('hex');
}

/**
 * The X-SDW-Hash of one workload unit: over its files (.service, .timer) with the
 * X-SDW-Hash lines removed. An agent can recompute it from the files on disk to
 * tell whether someone edited them.
 */
export function unitFilesHash(files: readonly RenderedUnit[]): string {
  return hashFiles(files, true);
}

/**
 * SystemdUnitSetSpec.hash: over every file's name and full content, in order,
 * and over what the agent does beside the files: probes (a probe change rolls
 * out too) and artifacts (a changed URL or limit is a new revision too). A spec
 * with neither hashes its files alone, as before they existed: upgrading the
 * operator does not roll every workload.
 */
export function specHash(
  files: readonly RenderedUnit[],
  probes: ReadonlyArray<Record<string, unknown>> = [],
  artifacts?: readonly ChildArtifact[],
): string {
  let h = hashFiles(files, false);
  const withProbes = probes.filter((p) => Object.entries(p).some(([k, v]) => k !== 'unit' && v !== undefined));
  if (withProbes.length > 0) h = sha256Hex(`${h}\nprobes:${JSON.stringify(withProbes)}`);
  if (artifacts?.length) h = sha256Hex(`${h}\nartifacts:${JSON.stringify(artifacts)}`);
  return h;
}
