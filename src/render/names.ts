// Unit file names: sdw-<namespace>_<workload>_<unit>.service (and .timer).
//
// The separator is "_", not "-": namespaces and unit names are DNS labels and
// workload names DNS subdomains, none of which may contain "_", so the name is
// injective. With "-" (the first design), namespace "team-a" workload "x" and
// namespace "team" workload "a-x" would both own sdw-team-a-x-<unit>.service on
// the same node: one tenant could overwrite another's unit.
import { FieldError } from './errors.js';
import { isValidUnitName } from './escape.js';

export const UNIT_PREFIX = 'sdw-';
export const OWNER_KEY = 'X-SDW-Owner';
export const HASH_KEY = 'X-SDW-Hash';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type UnitSuffix = 'service' | 'timer';

/** The unit base name (no suffix) of one workload unit. Throws if it cannot be a valid unit name. */
export function unitBaseName(namespace: string, workload: string, unit: string): string {
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) throw new FieldError('metadata.namespace', `'${namespace}' is not a DNS label`);
  if (!DNS_SUBDOMAIN.test(workload) || workload.length > 63) throw new FieldError('metadata.name', `'${workload}' must be a DNS subdomain of at most 63 characters`);
  if (!DNS_LABEL.test(unit) || unit.length > 40) throw new FieldError('units[].name', `'${unit}' must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ and be at most 40 characters`);
  return `${UNIT_PREFIX}${namespace}_${workload}_${unit}`;
}

/** sdw-<namespace>_<workload>_<unit>.<suffix>, checked against systemd's unit name rules (<= 255). */
export function unitFileName(namespace: string, workload: string, unit: string, suffix: UnitSuffix = 'service'): string {
  const name = `${unitBaseName(namespace, workload, unit)}.${suffix}`;
  if (!isValidUnitName(name)) throw new FieldError('metadata.name', `unit name '${name}' is not a valid systemd unit name (max 255 characters)`);
  return name;
}

/** The inverse of unitFileName; undefined for a name the operator would not write. */
export function parseUnitFileName(name: string): { namespace: string; workload: string; unit: string; suffix: UnitSuffix } | undefined {
  const m = /^sdw-([a-z0-9-]+)_([a-z0-9.-]+)_([a-z0-9-]+)\.(service|timer)$/.exec(name);
  if (!m) return undefined;
  const [, namespace, workload, unit, suffix] = m as unknown as [string, string, string, string, UnitSuffix];
  if (!DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(workload) || !DNS_LABEL.test(unit)) return undefined;
  return { namespace, workload, unit, suffix };
}

/** Reads the X-SDW-Owner marker ("<namespace>/<workload>") of a unit file's content. */
export function ownerOf(content: string): string | undefined {
  const m = /^X-SDW-Owner=(.*)$/m.exec(content);
  return m ? m[1] : undefined;
}

/** Reads the X-SDW-Hash marker of a unit file's content. */
export function unitHashOf(content: string): string | undefined {
  const m = /^X-SDW-Hash=([0-9a-f]+)$/m.exec(content);
  return m ? m[1] : undefined;
}
