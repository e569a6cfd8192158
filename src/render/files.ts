// Files beside the units (spec.files, and a unit's EnvironmentFile for env[].valueFrom),
// resolved for the SystemdUnitSet. Pure: the ConfigMaps and Secrets come in through a
// SourceResolver (the controller's caches; none offline, for `kubectl sdw render`).
//
// - A file's content is written into the child only when it holds no secret value.
//   A secret's plaintext is returned beside the spec (payloads, by digest), for the
//   controller to seal per node; the spec carries only its digest.
// - A secret's digest is an HMAC keyed with the Secret's uid, not a plain sha256:
//   every agent can read every child, and a plain hash of a short password is a
//   dictionary attack away from the password.
// - Each unit gets one X-SDW-File-<Mode>=<path> <digest> line per file it uses (and
//   X-SDW-File-Restart= for its EnvironmentFile), so a content change changes only
//   the files, and the hash, of the units that use it.
import { createHash, createHmac } from 'node:crypto';
import { FieldError } from '../api/errors.js';
import { FILE_KEYS } from '../api/markers.js';
import { FILES_ROOT } from '../api/schema.js';
import type { ChangeMode, DeliveredFile, KeyRef, SystemdWorkload, UnitSpec } from '../api/types.js';
import { escapeSpecifiers } from './escape.js';

/** The ConfigMaps and Secrets of the workload's namespace, as the controller's caches hold them. */
export interface SourceResolver {
  configMap(name: string): { data: Record<string, string> } | undefined;
  secret(name: string): { uid: string; data: Record<string, Buffer> } | undefined;
}

/** A source that cannot be read: the message names the object and key, never a value. */
export class SourceNotFoundError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export interface RenderedFiles {
  files: DeliveredFile[];
  /** Secret plaintexts by digest: for the controller to seal, never stored. */
  payloads: Map<string, Buffer>;
  /** Per unit name: the [Unit] lines (X-SDW-File-*) and [Service] lines (EnvironmentFile=, LoadCredential=). */
  unitLines: Map<string, { unit: string[]; service: string[] }>;
}

/** The operator's directory for a workload's files on every node. */
export function workloadFilesDir(namespace: string, workload: string): string {
  return `${FILES_ROOT}/${namespace}/${workload}`;
}

/** A unit's EnvironmentFile (env[].valueFrom): in a directory no spec.files path may name. */
export function envFilePath(namespace: string, workload: string, unit: string): string {
  return `${workloadFilesDir(namespace, workload)}/.sdw-env/${unit}.env`;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hmac = (keys: string[], b: Buffer): string =>
  `hmac-sha256:${createHmac('sha256', [...keys].sort().join('\n'))
    .update(b)
    .digest('hex')}`;

/** A value from a key ref; secret says whether it came from a Secret (and then the Secret's uid). */
interface Value {
  bytes: Buffer;
  secretUid?: string;
}

function resolveRef(
  kind: 'configMapKeyRef' | 'secretKeyRef',
  ref: KeyRef,
  field: string,
  namespace: string,
  sources: SourceResolver,
): Value {
  if (kind === 'configMapKeyRef') {
    const cm = sources.configMap(ref.name);
    if (!cm) throw new SourceNotFoundError(field, `ConfigMap ${namespace}/${ref.name} not found`);
    const v = cm.data[ref.key];
    if (v === undefined) throw new SourceNotFoundError(field, `ConfigMap ${namespace}/${ref.name} has no key '${ref.key}'`);
    return { bytes: Buffer.from(v, 'utf8') };
  }
  const s = sources.secret(ref.name);
  if (!s) throw new SourceNotFoundError(field, `Secret ${namespace}/${ref.name} not found`);
  const v = s.data[ref.key];
  if (v === undefined) throw new SourceNotFoundError(field, `Secret ${namespace}/${ref.name} has no key '${ref.key}'`);
  return { bytes: v, secretUid: s.uid };
}

/** One NAME="value" line of an EnvironmentFile: \ " $ ` escaped; newlines kept inside the quotes. */
export function envFileLine(name: string, value: string, field: string): string {
  if (value.includes('\0')) throw new FieldError(field, 'the value contains a NUL byte, which an EnvironmentFile cannot hold');
  return `${name}="${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"\n`;
}

/** The owner of a file: the one user every unit using it runs as (root when they differ or run as root). */
function ownerOf(users: UnitSpec[]): { owner?: string; group?: string } {
  const named = users.filter((u) => !u.dynamicUser);
  if (named.length === 0) return {};
  const owner = named[0]!.user;
  if (owner === undefined || named.some((u) => u.user !== owner)) return {};
  const group = named[0]!.group;
  return named.every((u) => u.group === group) && group !== undefined ? { owner, group } : { owner };
}

export function renderFiles(wl: SystemdWorkload, sources: SourceResolver | undefined): RenderedFiles {
  const namespace = wl.metadata.namespace as string;
  const name = wl.metadata.name as string;
  const files: DeliveredFile[] = [];
  const payloads = new Map<string, Buffer>();
  const unitLines = new Map(wl.spec.units.map((u) => [u.name, { unit: [] as string[], service: [] as string[] }]));
  const byName = new Map<string, DeliveredFile>();

  (wl.spec.files ?? []).forEach((f, i) => {
    const field = `spec.files[${i}]`;
    const users = wl.spec.units.filter((u) => u.files?.some((r) => r.name === f.name));
    let value: Value | undefined;
    let source = 'inline';
    if (f.content !== undefined) value = { bytes: Buffer.from(f.content, 'utf8') };
    else if (f.configMapKeyRef) {
      source = `configmap/${f.configMapKeyRef.name}/${f.configMapKeyRef.key}`;
      value = sources && resolveRef('configMapKeyRef', f.configMapKeyRef, `${field}.configMapKeyRef`, namespace, sources);
    } else if (f.secretKeyRef) {
      source = `secret/${f.secretKeyRef.name}/${f.secretKeyRef.key}`;
      value = sources && resolveRef('secretKeyRef', f.secretKeyRef, `${field}.secretKeyRef`, namespace, sources);
    }
    const secret = f.secretKeyRef !== undefined;
    const mode = (f.mode ?? (secret ? '0600' : '0644')).padStart(4, '0');
    // A Secret is never world-readable on a node, whatever the mode asks.
    const safeMode = secret ? `0${(parseInt(mode, 8) & 0o770).toString(8).padStart(3, '0')}` : mode;
    const digest = value === undefined ? 'unresolved' : value.secretUid ? hmac([value.secretUid], value.bytes) : sha(value.bytes);
    const out: DeliveredFile = { path: f.path, mode: safeMode, ...ownerOf(users), source, digest };
    if (value && !secret) out.content = value.bytes.toString('utf8');
    if (value && secret) payloads.set(digest, value.bytes);
    files.push(out);
    byName.set(f.name, out);
  });

  wl.spec.units.forEach((u, i) => {
    const lines = unitLines.get(u.name)!;
    for (const r of u.files ?? []) {
      const f = byName.get(r.name);
      if (!f) continue;
      const mode: ChangeMode = r.changeMode ?? 'restart';
      lines.unit.push(`${FILE_KEYS[mode]}=${escapeSpecifiers(f.path)} ${f.digest}`);
      // A dynamic user exists only while the unit runs: it reads its files as credentials,
      // which systemd copies for it at each start (owned by it, mode 0400, on a ramfs).
      if (u.dynamicUser) lines.service.push(`LoadCredential=${r.name}:${escapeSpecifiers(f.path)}`);
    }
    const fromEnv = (u.env ?? []).filter((e) => e.valueFrom);
    if (fromEnv.length === 0) return;
    const path = envFilePath(namespace, name, u.name);
    let text = '';
    const uids: string[] = [];
    let resolved = sources !== undefined;
    u.env!.forEach((e, j) => {
      const vf = e.valueFrom;
      if (!vf) return;
      const field = `spec.units[${i}].env[${j}].valueFrom`;
      const kind = vf.secretKeyRef ? 'secretKeyRef' : 'configMapKeyRef';
      const ref = (vf.secretKeyRef ?? vf.configMapKeyRef)!;
      if (!sources) {
        resolved = false;
        return;
      }
      const v = resolveRef(kind, ref, `${field}.${kind}`, namespace, sources);
      if (v.secretUid) uids.push(v.secretUid);
      text += envFileLine(e.name, v.bytes.toString('utf8'), `spec.units[${i}].env[${j}]`);
    });
    const bytes = Buffer.from(text, 'utf8');
    const secret = fromEnv.some((e) => e.valueFrom?.secretKeyRef);
    const digest = !resolved ? 'unresolved' : uids.length > 0 ? hmac(uids, bytes) : sha(bytes);
    const sourceNames = fromEnv.map((e) => {
      const r = (e.valueFrom!.secretKeyRef ?? e.valueFrom!.configMapKeyRef)!;
      return `${e.valueFrom!.secretKeyRef ? 'secret' : 'configmap'}/${r.name}/${r.key}`;
    });
    const out: DeliveredFile = { path, mode: '0600', source: `env: ${sourceNames.join(', ')}`, digest };
    if (resolved && !secret) out.content = text;
    if (resolved && secret) payloads.set(digest, bytes);
    files.push(out);
    lines.unit.push(`${FILE_KEYS.restart}=${escapeSpecifiers(path)} ${digest}`);
    // Read by systemd (as root) before the unit's user exists: works for dynamic users too.
    lines.service.push(`EnvironmentFile=${escapeSpecifiers(path)}`);
  });
  return { files, payloads, unitLines };
}
