// The agent's decision, as a pure function: from the units the node's children
// ask for, the owned unit files on disk and what systemd reports, to the
// actions of one sync. Nothing here touches disk, D-Bus or the API server.
import type { RestartPolicy, SystemdUnitSet, UnitType } from '../api/types.js';
import { FILE_KEYS, HASH_KEY, parseOwnerMarker } from '../api/markers.js';
import { defaultRestartPolicy } from '../api/defaults.js';

/** How a file takes part: started itself, a timer, or a service only its timer starts. */
export type Role = 'service' | 'timer' | 'timer-service';

export interface DesiredFile {
  file: string;
  content: string;
  /** namespace/child-name: whose status reports this file. */
  child: string;
  /** The workload's unit name. */
  unit: string;
  role: Role;
  type: UnitType;
  restart: RestartPolicy;
}

export interface DiskFile {
  file: string;
  content: string;
}

export interface ObservedState {
  loadState?: string;
  activeState?: string;
  subState?: string;
  /** enabled | disabled | static | ...: 'disabled' on a unit we enable means the links are gone. */
  unitFileState?: string;
}

export interface LiveUpdate {
  file: string;
  /** Resource directives as they are in the new file (systemd syntax). */
  directives: Record<string, string>;
}

export interface AgentPlan {
  write: DesiredFile[];
  /** Owned files no child asks for: stopped, disabled, deleted. */
  remove: string[];
  reload: boolean;
  enable: string[];
  start: string[];
  restart: string[];
  /** Running units whose reload-mode files changed (and nothing that needs a restart): ReloadUnit. */
  reloadUnits: string[];
  /** Failed units about to be started again because their spec changed: reset-failed first. */
  resetFailed: string[];
  liveUpdate: LiveUpdate[];
  /** Drift put back: a managed unit edited or stopped by hand. */
  repaired: Array<{ file: string; what: 'edited' | 'stopped' }>;
}

/** Directives systemd can change on a running unit without a restart. */
export const LIVE_DIRECTIVES = new Set(['MemoryMax', 'MemoryHigh', 'CPUQuota', 'CPUWeight', 'TasksMax']);
/** Lines that change no unit's behaviour by themselves: the hash, and the files whose change is a reload or nothing. */
const MARKER_KEYS = new Set<string>([HASH_KEY, FILE_KEYS.reload, FILE_KEYS.none]);

/** Whether the unit's reload-mode file lines (X-SDW-File-Reload=) differ between two versions. */
export function reloadFilesChanged(oldContent: string, newContent: string): boolean {
  const lines = (c: string) => directives(c).filter((d) => keyOf(d) === FILE_KEYS.reload);
  return lines(oldContent).join('\n') !== lines(newContent).join('\n');
}

/** The [Section] Key=Value lines of a unit file, in order, as "Section/Key=Value". */
export function directives(content: string): string[] {
  const out: string[] = [];
  let section = '';
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      section = line.slice(1, -1);
      continue;
    }
    out.push(`${section}/${line}`);
  }
  return out;
}

function keyOf(d: string): string {
  const slash = d.indexOf('/');
  const eq = d.indexOf('=');
  return d.slice(slash + 1, eq < 0 ? undefined : eq);
}

/**
 * When two versions of a unit differ only in directives systemd applies live,
 * the new values of those directives; otherwise undefined (a restart is needed).
 */
export function liveOnlyChange(oldContent: string, newContent: string): Record<string, string> | undefined {
  const strip = (ds: string[]) => ds.filter((d) => !LIVE_DIRECTIVES.has(keyOf(d)) && !MARKER_KEYS.has(keyOf(d)));
  const a = directives(oldContent);
  const b = directives(newContent);
  if (strip(a).join('\n') !== strip(b).join('\n')) return undefined;
  const live: Record<string, string> = {};
  const oldLive = new Map(a.filter((d) => LIVE_DIRECTIVES.has(keyOf(d))).map((d) => [keyOf(d), d.slice(d.indexOf('=') + 1)]));
  const newLive = new Map(b.filter((d) => LIVE_DIRECTIVES.has(keyOf(d))).map((d) => [keyOf(d), d.slice(d.indexOf('=') + 1)]));
  for (const k of new Set([...oldLive.keys(), ...newLive.keys()])) {
    if (oldLive.get(k) !== newLive.get(k)) live[k] = newLive.get(k) ?? '';
  }
  return live;
}

/** Flattens the children of this node into the files they ask for. */
export function desiredFiles(children: SystemdUnitSet[]): Map<string, DesiredFile> {
  const out = new Map<string, DesiredFile>();
  for (const c of children) {
    if (c.metadata.deletionTimestamp) continue;
    const child = `${c.metadata.namespace}/${c.metadata.name}`;
    for (const u of c.spec.units ?? []) {
      // A child written before the field existed carries no policy: the API's default.
      const restart = u.restart ?? defaultRestartPolicy(u.type, u.scheduled);
      for (const f of u.files) {
        const isTimer = f.name.endsWith('.timer');
        const role: Role = isTimer ? 'timer' : u.scheduled ? 'timer-service' : 'service';
        out.set(f.name, { file: f.name, content: f.content, child, unit: u.name, role, type: u.type, restart });
      }
    }
  }
  return out;
}

/** Does this file's unit, in this state, need a start to be as its spec says? */
function needsStart(d: DesiredFile, s: ObservedState | undefined): boolean {
  const active = s?.activeState;
  if (d.role === 'timer-service') return false;
  if (active === 'active' || active === 'activating' || active === 'reloading' || active === 'deactivating') return false;
  if (active === 'failed') return false; // systemd's restart policy gave up: reported, not forced
  // inactive: a timer, a oneshot or an always-restarting service should not be
  if (d.role === 'timer' || d.type === 'oneshot') return true;
  return d.restart === 'Always';
}

export function planSync(
  desired: Map<string, DesiredFile>,
  disk: Map<string, DiskFile>,
  states: Map<string, ObservedState>,
  opts: { firstSyncDone: boolean },
): AgentPlan {
  const plan: AgentPlan = {
    write: [],
    remove: [],
    reload: false,
    enable: [],
    start: [],
    restart: [],
    reloadUnits: [],
    resetFailed: [],
    liveUpdate: [],
    repaired: [],
  };
  for (const d of [...desired.values()].sort((a, b) => a.file.localeCompare(b.file))) {
    const onDisk = disk.get(d.file);
    const s = states.get(d.file);
    const running = s?.activeState === 'active' || s?.activeState === 'activating' || s?.activeState === 'reloading';
    if (!onDisk) {
      plan.write.push(d);
      if (d.role !== 'timer-service') {
        plan.enable.push(d.file);
        plan.start.push(d.file);
      }
      continue;
    }
    if (onDisk.content !== d.content) {
      plan.write.push(d);
      const markerOld = parseOwnerMarker(onDisk.content)?.hash;
      const markerNew = parseOwnerMarker(d.content)?.hash;
      // Same marker, different text: someone edited our file by hand.
      if (markerOld && markerOld === markerNew) plan.repaired.push({ file: d.file, what: 'edited' });
      const live = liveOnlyChange(onDisk.content, d.content);
      if (live && running) {
        if (Object.keys(live).length > 0) plan.liveUpdate.push({ file: d.file, directives: live });
        if (reloadFilesChanged(onDisk.content, d.content) && d.role !== 'timer') plan.reloadUnits.push(d.file);
      } else if (running && d.role !== 'timer-service') plan.restart.push(d.file);
      else if (s?.activeState === 'failed' && d.role !== 'timer-service') {
        // A new spec for a unit systemd gave up on (e.g. the user fixed a crashing
        // command): it deserves a start, not the old verdict.
        plan.resetFailed.push(d.file);
        plan.start.push(d.file);
      } else if (needsStart(d, s)) plan.start.push(d.file);
      continue;
    }
    if (s?.loadState === 'not-found') plan.reload = true;
    // Enablement lost (an enable that failed, an agent killed before it, `systemctl disable`).
    if (s?.unitFileState === 'disabled' && d.role !== 'timer-service') plan.enable.push(d.file);
    if (needsStart(d, s)) {
      plan.start.push(d.file);
      if (s?.activeState === 'inactive') plan.repaired.push({ file: d.file, what: 'stopped' });
    }
  }
  if (opts.firstSyncDone) {
    for (const f of [...disk.keys()].sort()) if (!desired.has(f)) plan.remove.push(f);
  }
  if (plan.write.length > 0 || plan.remove.length > 0) plan.reload = true;
  return plan;
}
