// Pure: the ownership marker the renderer writes into [Unit]:
//   X-SDW-Owner=<namespace>/<workload>
//   X-SDW-Hash=<hash>
// systemd ignores X- keys. The marker is how the agent tells its files from
// anyone else's in a shared /etc/systemd/system: no marker, not ours, never touched.

// One contract with the renderer, which writes the marker.
import { HASH_KEY, OWNER_KEY } from '../render/names.js';

export { HASH_KEY, OWNER_KEY };

export interface OwnerMarker {
  namespace: string;
  workload: string;
  /** The renderer's content hash; undefined if the line is missing. */
  hash?: string;
}

// Kubernetes names: a namespace is a DNS label, a workload a DNS subdomain.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const WORKLOAD = /^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/;

/** The marker in the file's [Unit] section, or undefined (foreign file). */
export function parseOwnerMarker(content: string): OwnerMarker | undefined {
  let section = '';
  let owner: string | undefined;
  let hash: string | undefined;
  for (const raw of content.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1] ?? '';
      continue;
    }
    if (section !== 'Unit') continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    // The first occurrence wins: a later duplicate cannot re-assign ownership.
    if (key === OWNER_KEY && owner === undefined) owner = value;
    else if (key === HASH_KEY && hash === undefined) hash = value;
  }
  if (owner === undefined) return undefined;
  const slash = owner.indexOf('/');
  const namespace = owner.slice(0, slash);
  const workload = owner.slice(slash + 1);
  if (slash < 0 || !NAMESPACE.test(namespace) || !WORKLOAD.test(workload)) return undefined;
  return { namespace, workload, hash: hash || undefined };
}

/** A unit file name the store accepts: no path parts, a known unit suffix. */
export function isValidUnitFileName(name: string): boolean {
  return (
    name.length <= 255 &&
    /^[A-Za-z0-9:_.\\@-]+\.(service|timer|socket|target|path|slice|mount)$/.test(name) &&
    !name.startsWith('.')
  );
}
