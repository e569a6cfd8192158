// The agent's Prometheus metrics: per unit what systemd reports (state,
// restarts, memory, CPU, tasks), and the agent's own work (syncs, status
// writes, drift repairs). Unknown figures (UINT64_MAX) are absent, never 0.
import client from 'prom-client';
import type { SystemdUnitSet, SystemdUnitSetStatus } from '../api/types.js';
import type { Metrics } from '../observability/metrics.js';

const UNIT_LABELS = ['namespace', 'workload', 'unit', 'systemd_unit'] as const;
type UnitLabel = (typeof UNIT_LABELS)[number];

export class AgentMetrics {
  readonly syncs: client.Counter<'result'>;
  readonly syncDuration: client.Histogram<string>;
  readonly statusWrites: client.Counter<string>;
  readonly repairs: client.Counter<'what'>;
  private readonly active: client.Gauge<UnitLabel>;
  private readonly restarts: client.Gauge<UnitLabel>;
  private readonly memory: client.Gauge<UnitLabel>;
  private readonly cpu: client.Gauge<UnitLabel>;
  private readonly tasks: client.Gauge<UnitLabel>;
  private readonly labelsByFile = new Map<string, Record<UnitLabel, string>>();

  constructor(readonly base: Metrics) {
    const registers = [base.registry];
    const labelNames = [...UNIT_LABELS];
    this.syncs = new client.Counter({
      name: 'sdw_agent_syncs_total',
      help: "Syncs of this node's units, by result",
      labelNames: ['result'],
      registers,
    });
    this.syncDuration = new client.Histogram({
      name: 'sdw_agent_sync_duration_seconds',
      help: 'Time per sync (files, one reload, jobs)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.statusWrites = new client.Counter({
      name: 'sdw_agent_status_writes_total',
      help: 'Status patches written to the API server',
      registers,
    });
    this.repairs = new client.Counter({
      name: 'sdw_agent_drift_repairs_total',
      help: 'Managed units put back after a change by hand',
      labelNames: ['what'],
      registers,
    });
    this.active = new client.Gauge({
      name: 'sdw_unit_active',
      help: '1 when the unit is active (running, exited oneshot, waiting timer)',
      labelNames,
      registers,
    });
    this.restarts = new client.Gauge({
      name: 'sdw_unit_restarts',
      help: 'NRestarts: automatic restarts systemd made since the unit was last started by the agent',
      labelNames,
      registers,
    });
    this.memory = new client.Gauge({
      name: 'sdw_unit_memory_bytes',
      help: "MemoryCurrent of the unit's cgroup (absent when systemd cannot account it)",
      labelNames,
      registers,
    });
    this.cpu = new client.Gauge({
      name: 'sdw_unit_cpu_seconds',
      help: 'CPUUsageNSec in seconds (absent when systemd cannot account it, e.g. hybrid cgroups)',
      labelNames,
      registers,
    });
    this.tasks = new client.Gauge({ name: 'sdw_unit_tasks', help: "TasksCurrent of the unit's cgroup", labelNames, registers });
  }

  observe(child: SystemdUnitSet, status: SystemdUnitSetStatus): void {
    const workload = child.metadata.labels?.['systemd.operators.dev/workload'] ?? '';
    for (const u of status.units ?? []) {
      const labels = { namespace: child.metadata.namespace ?? '', workload, unit: u.name, systemd_unit: u.unit };
      this.labelsByFile.set(u.unit, labels);
      this.active.set(labels, u.activeState === 'active' ? 1 : 0);
      this.restarts.set(labels, u.restarts ?? 0);
      const set = (g: client.Gauge<UnitLabel>, v: number | undefined): void => {
        if (v === undefined) g.remove(labels);
        else g.set(labels, v);
      };
      set(this.memory, u.memoryBytes);
      set(this.cpu, u.cpuNanoseconds === undefined ? undefined : u.cpuNanoseconds / 1e9);
      set(this.tasks, u.tasks);
    }
  }

  forget(file: string): void {
    const labels = this.labelsByFile.get(file);
    if (!labels) return;
    for (const g of [this.active, this.restarts, this.memory, this.cpu, this.tasks]) g.remove(labels);
    this.labelsByFile.delete(file);
  }
}
