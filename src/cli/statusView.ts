// Pure: a workload and its SystemdUnitSet children -> the view `kubectl-sdw
// status` prints (table or JSON). Figures the cluster does not know (an agent
// that has not reported, a usage sample not taken yet) stay null: printed "-",
// never 0.
import { LABEL_WORKLOAD_UID, type NodeSummary, type SystemdUnitSet, type SystemdWorkload, type UnitStatus } from '../api/types.js';

export interface UnitView {
  /** The workload unit name (spec.units[].name). */
  name: string;
  /** The systemd unit (the .timer for scheduled units). */
  unit: string | null;
  /** activeState/subState as systemd reports it, e.g. active/running. */
  state: string | null;
  restarts: number | null;
  exitCode: number | null;
  memoryBytes: number | null;
  cpuSeconds: number | null;
  tasks: number | null;
  scheduled: boolean;
  lastRun: string | null;
  nextRun: string | null;
  message: string | null;
}

export interface NodeView {
  node: string;
  phase: string | null;
  /** The child's spec hash is the one its agent applied. */
  upToDate: boolean | null;
  unitSet: string | null;
  message: string | null;
  units: UnitView[];
}

export interface WorkloadView {
  namespace: string;
  name: string;
  phase: string | null;
  desired: number | null;
  ready: number | null;
  updated: number | null;
  failed: number | null;
  restarts: number | null;
  observedGeneration: number | null;
  generation: number | null;
  createdAt: string | null;
  message: string | null;
  nodes: NodeView[];
}

const n = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** The children of a workload: by the workload-uid label, or by a controller ownerReference. */
export function childrenOf(w: SystemdWorkload, all: readonly SystemdUnitSet[]): SystemdUnitSet[] {
  const uid = w.metadata.uid;
  if (!uid) return [];
  return all.filter(
    (c) =>
      c.metadata.namespace === w.metadata.namespace &&
      (c.metadata.labels?.[LABEL_WORKLOAD_UID] === uid || (c.metadata.ownerReferences ?? []).some((o) => o.uid === uid)),
  );
}

function unitView(
  specUnit: { name: string; scheduled: boolean; files: Array<{ name: string }> } | undefined,
  st: UnitStatus | undefined,
  name: string,
): UnitView {
  const scheduled = specUnit?.scheduled ?? st?.timer !== undefined;
  const state = st?.activeState ? (st.subState ? `${st.activeState}/${st.subState}` : st.activeState) : null;
  return {
    name,
    unit: st?.unit ?? specUnit?.files.find((f) => f.name.endsWith(scheduled ? '.timer' : '.service'))?.name ?? null,
    state,
    restarts: n(st?.restarts),
    exitCode: n(st?.exitCode),
    memoryBytes: n(st?.memoryBytes),
    cpuSeconds: st?.cpuNanoseconds === undefined ? null : st.cpuNanoseconds / 1e9,
    tasks: n(st?.tasks),
    scheduled,
    lastRun: scheduled ? n(st?.timer?.lastTrigger) : null,
    nextRun: scheduled ? n(st?.timer?.nextElapse) : null,
    message: n(st?.message),
  };
}

function nodeView(child: SystemdUnitSet | undefined, summary: NodeSummary | undefined, node: string): NodeView {
  const statuses = child?.status?.units ?? [];
  const specUnits = child?.spec.units ?? [];
  const names = [...specUnits.map((u) => u.name), ...statuses.map((s) => s.name).filter((x) => !specUnits.some((u) => u.name === x))];
  const hash = child?.spec.hash;
  const applied = child?.status?.appliedHash;
  return {
    node,
    // The controller's view wins: it knows when an agent has gone silent (Unknown).
    phase: summary?.phase ?? child?.status?.phase ?? (child ? 'Pending' : null),
    upToDate: hash === undefined ? null : applied === undefined ? false : applied === hash,
    unitSet: child?.metadata.name ?? null,
    message: summary?.message ?? child?.status?.message ?? null,
    units: names.map((name) =>
      unitView(
        specUnits.find((u) => u.name === name),
        statuses.find((s) => s.name === name),
        name,
      ),
    ),
  };
}

export function workloadView(w: SystemdWorkload, children: readonly SystemdUnitSet[]): WorkloadView {
  const s = w.status;
  const byNode = new Map<string, SystemdUnitSet>();
  for (const c of children) byNode.set(c.spec.nodeName, c);
  const summaries = new Map((s?.nodes ?? []).map((x) => [x.node, x]));
  const nodes = [...new Set([...byNode.keys(), ...summaries.keys()])].sort();
  const cond = s?.conditions?.find(
    (c) => (c.type === 'Degraded' && c.status === 'True') || (c.type === 'Available' && c.status === 'False'),
  );
  return {
    namespace: w.metadata.namespace ?? '',
    name: w.metadata.name ?? '',
    phase: n(s?.phase),
    desired: n(s?.desiredNodes),
    ready: n(s?.readyNodes),
    updated: n(s?.updatedNodes),
    failed: n(s?.failedNodes),
    restarts: n(s?.restarts),
    observedGeneration: n(s?.observedGeneration),
    generation: n(w.metadata.generation),
    createdAt: n(w.metadata.creationTimestamp),
    message: cond?.message || null,
    nodes: nodes.map((node) => nodeView(byNode.get(node), summaries.get(node), node)),
  };
}

/** Views of many workloads, sorted by namespace and name. */
export function statusViews(workloads: readonly SystemdWorkload[], unitSets: readonly SystemdUnitSet[]): WorkloadView[] {
  return [...workloads]
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
    .map((w) => workloadView(w, childrenOf(w, unitSets)));
}
