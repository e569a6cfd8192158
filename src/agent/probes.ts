// The agent's probe scheduler: one timer per (child, unit, kind) for the probes
// its children's specs carry. Each probe starts initialDelaySeconds after the
// unit's main process started, runs every periodSeconds, and starts again from
// its initial state when the unit restarts (a new ExecMainStartTimestamp), as a
// container's probes do. A change of result asks for a status pass; a liveness
// probe that reaches failureThreshold restarts the unit (RestartUnit: only units
// of our children, which the agent wrote) and says why with an Event.
import type { Probe, SystemdUnitSet } from '../api/types.js';
import { networkProbe, type NetworkProbe, type ProbeOutcome } from '../probe/network.js';
import { execProbe, type RunAs, type StartTransient } from '../probe/exec.js';
import { initialProbeState, nextProbeState, type ProbeKind, type ProbeState } from '../probe/state.js';
import type { UnitState } from '../systemd/properties.js';

export interface ProbeDeps {
  /** Starts a transient unit on the node's systemd, for exec probes; resolves with its start job's result. */
  startTransient: StartTransient;
  /** Unit state by file name (the agent's NodeState.states). */
  states: Map<string, UnitState>;
  restart(unitFile: string): Promise<unknown>;
  statusDue(childKey: string): void;
  /** A liveness restart, for the child's Event and the unit's status. */
  livenessFailed(child: SystemdUnitSet, unit: string, message: string): void;
  log: { warn(msg: string, fields?: Record<string, unknown>): void };
  /** Runs an httpGet or tcpSocket probe where the node's units listen (default: from this process; src/probe/netns.ts otherwise). */
  network?(probe: NetworkProbe, timeoutSeconds: number): Promise<ProbeOutcome>;
}

/** The probe states of one unit, and the restarts its liveness probe caused (NRestarts does not count RestartUnit). */
export interface UnitProbes {
  readiness?: ProbeState;
  liveness?: ProbeState;
  livenessRestarts?: number;
  lastLivenessRestart?: { time: string; message: string };
}

interface Running {
  spec: string;
  timer: NodeJS.Timeout;
  state: ProbeState;
  startedAt?: string;
}

const keyOf = (child: string, unit: string, kind: ProbeKind) => `${child}\u0000${unit}\u0000${kind}`;

export class ProbeScheduler {
  private readonly running = new Map<string, Running>();
  /** child key + unit -> liveness restarts so far (lost when the agent restarts). */
  private readonly restarts = new Map<string, { count: number; time: string; message: string }>();
  private stopped = false;

  constructor(private readonly deps: ProbeDeps) {}

  /** Starts the probes the children carry, stops the ones they no longer do. */
  sync(children: Array<{ key: string; child: SystemdUnitSet }>): void {
    const wanted = new Set<string>();
    for (const { key, child } of children) {
      for (const u of child.spec.units ?? []) {
        const svcFile = u.files.find((f) => f.name.endsWith('.service'))?.name ?? '';
        for (const [kind, probe] of [
          ['readiness', u.readinessProbe],
          ['liveness', u.livenessProbe],
        ] as Array<[ProbeKind, Probe | undefined]>) {
          if (!probe) continue;
          const k = keyOf(key, u.name, kind);
          wanted.add(k);
          const spec = JSON.stringify([probe, u.runAs]);
          if (this.running.get(k)?.spec === spec) continue;
          this.stop(k);
          this.start(k, spec, { key, child, unit: u.name, svcFile, kind, probe, runAs: u.runAs ?? {} });
        }
      }
    }
    for (const k of [...this.running.keys()]) if (!wanted.has(k)) this.stop(k);
    // A child that is gone takes its liveness restart counts along.
    const keys = new Set(children.map((c) => c.key));
    for (const rk of [...this.restarts.keys()]) if (!keys.has(rk.split('\u0000')[0]!)) this.restarts.delete(rk);
  }

  /** Probe states of a child's units, for childStatus. */
  statesOf(childKey: string): Map<string, UnitProbes> {
    const out = new Map<string, UnitProbes>();
    for (const [k, r] of this.running) {
      const [child, unit, kind] = k.split('\u0000') as [string, string, ProbeKind];
      if (child !== childKey) continue;
      const u: UnitProbes = { ...out.get(unit), [kind]: r.state };
      const restarted = this.restarts.get(`${child}\u0000${unit}`);
      if (restarted) {
        u.livenessRestarts = restarted.count;
        u.lastLivenessRestart = { time: restarted.time, message: restarted.message };
      }
      out.set(unit, u);
    }
    return out;
  }

  stopAll(): void {
    this.stopped = true;
    for (const k of [...this.running.keys()]) this.stop(k);
  }

  private stop(k: string): void {
    const r = this.running.get(k);
    if (r) clearTimeout(r.timer);
    this.running.delete(k);
  }

  private start(
    k: string,
    spec: string,
    p: { key: string; child: SystemdUnitSet; unit: string; svcFile: string; kind: ProbeKind; probe: Probe; runAs: RunAs },
  ): void {
    const period = (p.probe.periodSeconds ?? 10) * 1000;
    const r: Running = { spec, state: initialProbeState(p.kind), timer: setTimeout(() => void tick(), 0) };
    this.running.set(k, r);
    const tick = async (): Promise<void> => {
      if (this.stopped || this.running.get(k) !== r) return;
      const svc = this.deps.states.get(p.svcFile);
      const startedAt = svc?.activeState === 'active' ? svc.execMainStartTimestamp : undefined;
      if (startedAt !== r.startedAt) {
        // A (re)started unit: its probes begin again, after the initial delay.
        r.startedAt = startedAt;
        this.setState(p.key, r, initialProbeState(p.kind));
      }
      const delayLeft = startedAt ? Date.parse(startedAt) + (p.probe.initialDelaySeconds ?? 0) * 1000 - Date.now() : period;
      if (!startedAt || delayLeft > 0) {
        r.timer = setTimeout(() => void tick(), Math.min(period, Math.max(delayLeft, 100)));
        return;
      }
      const outcome = await this.probeOnce(p.probe, p.runAs, p.svcFile);
      if (this.running.get(k) !== r) return;
      const step = nextProbeState(p.kind, p.probe, r.state, outcome, Date.now());
      this.setState(p.key, r, step.state);
      if (step.restart) {
        const message = `liveness probe failed ${p.probe.failureThreshold ?? 3} times: ${outcome.message}`;
        const rk = `${p.key}\u0000${p.unit}`;
        this.restarts.set(rk, { count: (this.restarts.get(rk)?.count ?? 0) + 1, time: new Date().toISOString(), message });
        this.deps.livenessFailed(p.child, p.unit, message);
        await this.deps
          .restart(p.svcFile)
          .catch((e: unknown) => this.deps.log.warn('liveness restart failed', { unit: p.svcFile, error: String(e) }));
      }
      if (this.running.get(k) === r) r.timer = setTimeout(() => void tick(), period);
    };
  }

  private setState(childKey: string, r: Running, outcome: ProbeState): void {
    const next: ProbeState = { ...outcome, startedAt: r.startedAt };
    const changed = next.result !== r.state.result || next.message !== r.state.message || next.failures > 0 !== r.state.failures > 0;
    r.state = next;
    if (changed) this.deps.statusDue(childKey);
  }

  private probeOnce(probe: Probe, runAs: RunAs, unit: string): Promise<ProbeOutcome> {
    const timeout = probe.timeoutSeconds ?? 1;
    if (probe.httpGet || probe.tcpSocket) return (this.deps.network ?? networkProbe)(probe, timeout);
    return execProbe(probe.exec?.command ?? [], runAs, timeout, unit, this.deps.startTransient);
  }
}
