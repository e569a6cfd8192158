// The ownership marker the renderer writes into [Unit]:
//   X-SDW-Owner=<namespace>/<workload>
//   X-SDW-Hash=<hash>
// systemd ignores X- keys. The marker is how the agent tells its files from
// anyone else's in a shared /etc/systemd/system: no marker, not ours, never touched.

// A contract between the controller (whose renderer writes the marker) and the
// agent (which reads it): defined here, once, for both.
import { DNS_LABEL, DNS_SUBDOMAIN } from './names.js';

export const OWNER_KEY = 'X-SDW-Owner';
export const HASH_KEY = 'X-SDW-Hash';

export interface OwnerMarker {
  namespace: string;
  workload: string;
  /** The renderer's content hash; undefined if the line is missing. */
  hash?: string;
}

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
  if (slash < 0 || namespace.length > 63 || !DNS_LABEL.test(namespace) || workload.length > 253 || !DNS_SUBDOMAIN.test(workload))
    return undefined;
  return { namespace, workload, hash: hash || undefined };
}

/**
 * The files a unit uses, one line each in [Unit]: `X-SDW-File-<Mode>=<path> <digest>`.
 * The digest puts the file's content into the unit's hash (so a change rolls out
 * and touches only the units that use it); the key says what the change does.
 */
export const FILE_KEYS = { restart: 'X-SDW-File-Restart', reload: 'X-SDW-File-Reload', none: 'X-SDW-File-None' } as const;
