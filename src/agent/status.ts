// A child's status from what systemd reports about its units: a pure function.
// Usage figures (memory, CPU, tasks) come from the last slow-cadence sample, so
// a status that only differs in them is written at that cadence, never faster.
import type { NodePhase, SystemdUnitSet, SystemdUnitSetStatus, UnitStatus } from '../api/types.js';
import type { Termination } from '../systemd/termination.js';
import type { UnitState } from '../systemd/properties.js';
import { probeResult } from '../probe/state.js';
import type { UnitProbes } from './probes.js';
import { defaultRestartPolicy } from '../api/defaults.js';
import { restartsAfterFailure, type BackOffRecord } from './backoff.js';

/** A unit crashing and being restarted (by systemd or by the agent's back-off), as a Pod's container reason. */
export const CRASH_LOOP_REASON = 'CrashLoopBackOff';

export interface Usage {
  memoryBytes?: number;
  cpuNanoseconds?: number;
  tasks?: number;
}

export interface StatusInput {
  child: SystemdUnitSet;
  /** Unit state by unit file name. */
  states: Map<string, UnitState>;
  /** Last termination by unit file name (from signals: polling misses crash loops). */
  terminations: Map<string, Termination>;
  usage: Map<string, Usage>;
  /** The agent's crash-loop back-off by service file name (backoff.ts). */
  backOff?: Map<string, BackOffRecord>;
  /** The child's hash was fully applied (files written, jobs done). */
  applied: boolean;
  /** Probe states by workload unit name (src/agent/probes.ts); a unit with a readinessProbe and no state is not ready. */
  probes?: Map<string, UnitProbes>;
  /** A node-level problem (e.g. the unit directory is not writable). */
  error?: string;
  now: number;
}

function unitReady(type: string, scheduled: boolean, svc: UnitState | undefined, timer: UnitState | undefined): boolean {
  if (scheduled) return timer?.activeState === 'active';
  if (type === 'oneshot')
    return svc?.activeState === 'active' || (svc?.activeState === 'inactive' && svc.result === 'success' && !!svc.execMainExitTimestamp);
  return svc?.activeState === 'active' && svc.subState === 'running';
}

/**
 * What a user reads about a termination. On cgroup v1/hybrid hosts an OOM kill is
 * a plain SIGKILL (systemd cannot tell): say so when a memory limit was set.
 */
export function whyEnded(term: { reason: string; status: number; code: string }, svc: UnitState | undefined): string {
  const limit = svc?.memoryMax;
  if (term.reason === 'OOMKilled') return limit !== undefined ? `OOMKilled (MemoryMax=${limit})` : 'OOMKilled';
  if (term.code === 'killed' && term.status === 9 && limit !== undefined) {
    return `${term.reason}: SIGKILL with MemoryMax=${limit} set, likely out of memory (this host's cgroups cannot confirm an OOM kill)`;
  }
  return term.reason;
}

/**
 * A service that restarted after a failure this recently is not ready, even if
 * it is running at this instant: polled between crashes a crash loop looks
 * healthy (systemd resets Result on every start). Like a Pod in CrashLoopBackOff.
 */
export const RESTART_SETTLE_MS = 30_000;

/** When a unit restarting now will count as settled, if it stays up: the agent recomputes then. */
export function settlesInMs(units: UnitStatus[], now: number): number | undefined {
  let soonest: number | undefined;
  for (const u of units) {
    const t = u.lastTermination;
    if (!t || t.reason === 'Completed' || !(u.restarts ?? 0)) continue;
    const left = Date.parse(t.time) + RESTART_SETTLE_MS - now;
    if (left > 0) soonest = Math.min(soonest ?? Infinity, left);
  }
  return soonest;
}

export function childStatus(input: StatusInput): SystemdUnitSetStatus {
  const { child, states } = input;
  const prev = child.status;
  const units: UnitStatus[] = [];
  let allReady = true;
  let anyFailed = false;
  let allCompleted = (child.spec.units ?? []).length > 0;
  for (const u of child.spec.units ?? []) {
    const svcFile = u.files.find((f) => f.name.endsWith('.service'))?.name ?? '';
    const timerFile = u.files.find((f) => f.name.endsWith('.timer'))?.name;
    const svc = states.get(svcFile);
    const timer = timerFile ? states.get(timerFile) : undefined;
    // A failed unit whose policy restarts is in the agent's back-off, not finished.
    const inBackOff = restartsAfterFailure(u.restart ?? defaultRestartPolicy(u.type, u.scheduled), u.scheduled, svc);
    const failed = u.scheduled ? timer?.activeState === 'failed' : svc?.activeState === 'failed' && !inBackOff;
    const backOff = input.backOff?.get(svcFile);
    let ready = unitReady(u.type, u.scheduled, svc, timer);
    anyFailed ||= failed;
    if (u.scheduled || u.type !== 'oneshot') allCompleted = false;
    const st: UnitStatus = { name: u.name, unit: u.scheduled && timerFile ? timerFile : svcFile };
    if (svc?.activeState) st.activeState = u.scheduled && timer?.activeState ? timer.activeState : svc.activeState;
    if (svc?.subState) st.subState = u.scheduled && timer?.subState ? timer.subState : svc.subState;
    if (svc?.result) st.result = svc.result;
    // The agent's starts reset systemd's NRestarts: what came before is carried.
    st.restarts = (svc?.nRestarts ?? 0) + (backOff?.earlierRestarts ?? 0);
    if (backOff?.earlierRestarts) st.earlierRestarts = backOff.earlierRestarts;
    if (backOff?.attempts) st.backOffAttempts = backOff.attempts;
    if (svc?.execMainCode === 1 && svc.execMainStatus !== undefined) st.exitCode = svc.execMainStatus;
    if (svc?.execMainStatus !== undefined) st.exitStatus = svc.execMainStatus;
    if (svc?.execMainStartTimestamp) st.lastStartTime = svc.execMainStartTimestamp;
    if (svc?.execMainExitTimestamp) st.lastExitTime = svc.execMainExitTimestamp;
    const probes = input.probes?.get(u.name);
    const recorded = input.terminations.get(svcFile);
    const reported = prev?.units?.find((x) => x.unit === st.unit || x.name === u.name)?.lastTermination;
    // The same exit, already reported (before an agent restart, whose first read
    // records it again): the report was judged with more evidence (the memory
    // sampled before a kill), so it stands.
    let term = recorded && recorded.time !== reported?.time ? recorded : (reported ?? recorded);
    // A restart by the liveness probe (RestartUnit): systemd's NRestarts does not count it, the agent does.
    const killed = probes?.lastLivenessRestart;
    st.restarts += probes?.livenessRestarts ?? 0;
    if (killed && (!term?.time || Date.parse(killed.time) >= Date.parse(term.time) - 1000)) {
      term = { code: term?.code ?? 'killed', status: term?.status ?? 15, time: killed.time, reason: 'LivenessProbeFailed' };
    }
    if (term) {
      st.lastTermination = {
        code: term.code,
        status: term.status,
        time: term.time ?? svc?.execMainExitTimestamp ?? new Date(input.now).toISOString(),
        reason: term.reason,
      };
      if (!u.scheduled && term.reason !== 'Completed' && st.exitCode === undefined) st.exitCode = term.status;
    }
    const use = input.usage.get(svcFile);
    if (use?.memoryBytes !== undefined) st.memoryBytes = use.memoryBytes;
    if (use?.cpuNanoseconds !== undefined) st.cpuNanoseconds = use.cpuNanoseconds;
    if (use?.tasks !== undefined) st.tasks = use.tasks;
    if (u.scheduled && timer?.timer) {
      st.timer = {};
      if (timer.timer.lastTriggerUSec) st.timer.lastTrigger = timer.timer.lastTriggerUSec;
      if (timer.timer.nextElapseUSecRealtime) st.timer.nextElapse = timer.timer.nextElapseUSecRealtime;
      // systemd's Result is 'success' before the first run too: only a run that ended has a result.
      if (svc?.result && (svc.execMainExitTimestamp || term)) st.timer.lastResult = svc.result;
    }
    const restarting =
      !u.scheduled &&
      u.type !== 'oneshot' &&
      !!st.lastTermination &&
      st.lastTermination.reason !== 'Completed' &&
      (st.restarts ?? 0) > 0 &&
      Date.parse(st.lastTermination.time) + RESTART_SETTLE_MS > input.now;
    if (restarting) ready = false;
    // A result speaks only for the run of the unit it probed: a restarted unit, or a
    // new version started from the same probe spec, is not ready until probed again.
    const readiness = probes?.readiness?.startedAt === svc?.execMainStartTimestamp ? probes?.readiness : undefined;
    if (u.readinessProbe && readiness?.result !== 'Success') ready = false;
    if (readiness || probes?.liveness) {
      st.probes = {};
      if (u.readinessProbe && readiness) st.probes.readiness = probeResult(readiness);
      if (u.livenessProbe && probes?.liveness) st.probes.liveness = probeResult(probes.liveness);
    }
    st.ready = ready;
    allReady &&= ready;
    const crashLoop = inBackOff || (!u.scheduled && svc?.subState === 'auto-restart') || restarting;
    if (crashLoop) st.reason = CRASH_LOOP_REASON;
    const lastExit = term ? whyEnded(term, svc) : `systemd result ${svc?.result ?? 'unknown'}`;
    if (inBackOff) {
      const at = backOff?.nextStartAt;
      if (at !== undefined) st.nextStartTime = new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
      const when = at === undefined ? 'due' : `in ${Math.max(0, Math.ceil((at - input.now) / 1000))}s`;
      st.message = `${st.unit} back-off, next start ${when} (${st.restarts} restarts); last exit: ${lastExit}`;
    } else if (failed)
      st.message = `${st.unit} failed: ${term ? whyEnded(term, svc) : `systemd result ${svc?.result ?? timer?.result ?? 'unknown'}`}`;
    else if (svc?.subState === 'auto-restart' || restarting) {
      st.message = `${st.unit} restarting (${st.restarts} restarts) after ${term ? whyEnded(term, svc) : 'an exit'}`;
    } else if (u.readinessProbe && !ready && st.activeState === 'active') {
      st.message = `${st.unit} not ready: readiness probe ${readiness?.message ?? 'not run yet'}`;
    }
    units.push(st);
  }

  let phase: NodePhase;
  if (input.error || anyFailed) phase = 'Failed';
  else if (!input.applied || !allReady) phase = 'Pending';
  else if (allCompleted) phase = 'Completed';
  else phase = 'Running';

  const ready = phase === 'Running' || phase === 'Completed';
  const wasReady = (prev?.phase === 'Running' || prev?.phase === 'Completed') && prev.appliedHash === child.spec.hash;
  const status: SystemdUnitSetStatus = {
    observedGeneration: child.metadata.generation ?? 0,
    phase,
    units,
  };
  if (input.applied) status.appliedHash = child.spec.hash;
  else if (prev?.appliedHash) status.appliedHash = prev.appliedHash;
  if (ready) status.readySince = wasReady && prev?.readySince ? prev.readySince : new Date(input.now).toISOString();
  const message = input.error ?? units.find((u) => u.message)?.message;
  if (message) status.message = message;
  return status;
}
