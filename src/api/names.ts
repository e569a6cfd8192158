// Unit file names: sdw-<namespace>_<workload>_<unit>.service (and .timer).
//
// The separator is "_", not "-": namespaces and unit names are DNS labels and
// workload names DNS subdomains, none of which may contain "_", so the name is
// injective. With "-" (the first design), namespace "team-a" workload "x" and
// namespace "team" workload "a-x" would both own sdw-team-a-x-<unit>.service on
// the same node: one tenant could overwrite another's unit.
import { FieldError } from './errors.js';
import { LIMITS, PATTERNS } from './schema.js';

export const UNIT_PREFIX = 'sdw-';

/** Kubernetes names: a namespace or a unit name is a DNS label, a workload name a DNS subdomain. */
export const DNS_LABEL = new RegExp(PATTERNS.dnsLabel);
export const DNS_SUBDOMAIN = new RegExp(PATTERNS.dnsSubdomain);

export type UnitSuffix = 'service' | 'timer';

/** The unit base name (no suffix) of one workload unit. Throws if it cannot be a valid unit name. */
export function unitBaseName(namespace: string, workload: string, unit: string): string {
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) throw new FieldError('metadata.namespace', `'${namespace}' is not a DNS label`);
  if (!DNS_SUBDOMAIN.test(workload) || workload.length > 63)
    throw new FieldError('metadata.name', `'${workload}' must be a DNS subdomain of at most 63 characters`);
  if (!DNS_LABEL.test(unit) || unit.length > LIMITS.unitNameLength)
    throw new FieldError('units[].name', `'${unit}' must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ and be at most 40 characters`);
  return `${UNIT_PREFIX}${namespace}_${workload}_${unit}`;
}

/** sdw-<namespace>_<workload>_<unit>.<suffix>, checked against systemd's unit name rules (<= 255). */
export function unitFileName(namespace: string, workload: string, unit: string, suffix: UnitSuffix = 'service'): string {
  const name = `${unitBaseName(namespace, workload, unit)}.${suffix}`;
  if (!isValidUnitName(name))
    throw new FieldError('metadata.name', `unit name '${name}' is not a valid systemd unit name (max 255 characters)`);
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

/** systemd's unit_name_is_valid() for a plain (non-template) unit name. */
export function isValidUnitName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return false;
  const suffix = name.slice(dot + 1);
  if (!UNIT_SUFFIXES.has(suffix)) return false;
  return /^[A-Za-z0-9:_.\\-]+$/.test(name.slice(0, dot));
}

const UNIT_SUFFIXES = new Set(['service', 'socket', 'target', 'device', 'mount', 'automount', 'swap', 'timer', 'path', 'slice', 'scope']);

/** A unit file name the store accepts: no path parts, a known unit suffix. */
export function isValidUnitFileName(name: string): boolean {
  return name.length <= 255 && /^[A-Za-z0-9:_.\\@-]+\.(service|timer|socket|target|path|slice|mount)$/.test(name) && !name.startsWith('.');
}
