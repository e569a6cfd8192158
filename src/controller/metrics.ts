// Per-workload status as Prometheus series, for alerts and dashboards: what
// `kubectl get sdw` shows, read from the workload cache at scrape time. Reading
// at scrape time (rather than setting gauges on every reconcile) means a
// deleted workload's series go with it, and nothing can go stale.
//
// Only the leader exports them: every replica holds the same cache, and one
// series per workload (not one per replica) keeps the alert expressions plain.
import client from 'prom-client';
import type { SystemdWorkload, WorkloadPhase } from '../api/types.js';
import type { Metrics } from '../observability/metrics.js';

export const WORKLOAD_PHASES: readonly WorkloadPhase[] = ['Pending', 'Progressing', 'Running', 'Completed', 'Degraded', 'Failed'];

type WorkloadLabel = 'namespace' | 'workload';

/** The status counts exported as sdw_workload_<suffix>, with the status field each reads. */
const COUNTS = [
  ['nodes_desired', 'desiredNodes', 'Nodes that match the workload (status.desiredNodes)'],
  ['nodes_current', 'currentNodes', 'Nodes that have a child for the workload (status.currentNodes)'],
  ['nodes_ready', 'readyNodes', 'Nodes whose units are all up (status.readyNodes)'],
  ['nodes_updated', 'updatedNodes', 'Nodes running the current spec (status.updatedNodes)'],
  ['nodes_failed', 'failedNodes', 'Nodes where a unit failed (status.failedNodes)'],
  ['nodes_unknown', 'unknownNodes', "Nodes whose agent's heartbeat expired (status.unknownNodes)"],
  [
    'restarts',
    'restarts',
    'Automatic restarts of the units on every node (status.restarts; falls when a node goes or a unit is restarted by a rollout)',
  ],
] as const;

export class WorkloadMetrics {
  constructor(base: Metrics, workloads: () => readonly SystemdWorkload[], exporting: () => boolean) {
    const registers = [base.registry];
    const each = (fn: (w: SystemdWorkload, labels: Record<WorkloadLabel, string>) => void): void => {
      if (!exporting()) return;
      for (const w of workloads()) fn(w, { namespace: w.metadata.namespace ?? '', workload: w.metadata.name ?? '' });
    };
    new client.Gauge({
      name: 'sdw_workload_phase',
      help: "1 for the workload's current phase (status.phase), 0 for the others",
      labelNames: ['namespace', 'workload', 'phase'],
      registers,
      collect() {
        this.reset();
        each((w, labels) => {
          for (const phase of WORKLOAD_PHASES) this.set({ ...labels, phase }, w.status?.phase === phase ? 1 : 0);
        });
      },
    });
    new client.Gauge({
      name: 'sdw_workload_condition',
      help: 'One series per status condition of the workload: 1 for its current status (True, False or Unknown)',
      labelNames: ['namespace', 'workload', 'type', 'status'],
      registers,
      collect() {
        this.reset();
        each((w, labels) => {
          for (const c of w.status?.conditions ?? []) {
            for (const status of ['True', 'False', 'Unknown']) this.set({ ...labels, type: c.type, status }, c.status === status ? 1 : 0);
          }
        });
      },
    });
    for (const [suffix, field, help] of COUNTS) {
      new client.Gauge({
        name: `sdw_workload_${suffix}`,
        help,
        labelNames: ['namespace', 'workload'],
        registers,
        collect() {
          this.reset();
          each((w, labels) => this.set(labels, w.status?.[field] ?? 0));
        },
      });
    }
    new client.Gauge({
      name: 'sdw_workload_generation_lag',
      help: 'metadata.generation minus status.observedGeneration: above 0 while the controller has not seen the latest spec',
      labelNames: ['namespace', 'workload'],
      registers,
      collect() {
        this.reset();
        each((w, labels) => this.set(labels, Math.max(0, (w.metadata.generation ?? 0) - (w.status?.observedGeneration ?? 0))));
      },
    });
  }
}
