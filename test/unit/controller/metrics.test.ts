// The per-workload series are the workload cache as it is at scrape time:
// phase as one 1 among 0s, the node counts, the conditions, and nothing left
// behind once a workload is gone or this replica does not lead.
import type { SystemdWorkload } from '../../../src/api/types.js';
import { WorkloadMetrics } from '../../../src/controller/metrics.js';
import { Metrics } from '../../../src/observability/metrics.js';

const workload = (name: string, status: SystemdWorkload['status'], generation = 1): SystemdWorkload =>
  ({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'team-a', generation },
    spec: { units: [] },
    status,
  }) as unknown as SystemdWorkload;

function series(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('WorkloadMetrics', () => {
  let cache: SystemdWorkload[];
  let leading: boolean;
  let metrics: Metrics;
  beforeEach(() => {
    cache = [
      workload(
        'web',
        {
          observedGeneration: 1,
          phase: 'Degraded',
          desiredNodes: 3,
          currentNodes: 3,
          readyNodes: 2,
          updatedNodes: 3,
          failedNodes: 1,
          unknownNodes: 0,
          restarts: 7,
          conditions: [{ type: 'Stalled', status: 'True', reason: 'R', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' }],
        },
        2,
      ),
    ];
    leading = true;
    metrics = new Metrics();
    new WorkloadMetrics(
      metrics,
      () => cache,
      () => leading,
    );
  });

  it('exports the phase, the node counts, the restarts and the conditions of each workload', async () => {
    const text = await metrics.registry.metrics();
    expect(series(text, 'sdw_workload_phase')).toEqual([
      'sdw_workload_phase{namespace="team-a",workload="web",phase="Pending"} 0',
      'sdw_workload_phase{namespace="team-a",workload="web",phase="Progressing"} 0',
      'sdw_workload_phase{namespace="team-a",workload="web",phase="Running"} 0',
      'sdw_workload_phase{namespace="team-a",workload="web",phase="Completed"} 0',
      'sdw_workload_phase{namespace="team-a",workload="web",phase="Degraded"} 1',
      'sdw_workload_phase{namespace="team-a",workload="web",phase="Failed"} 0',
    ]);
    expect(series(text, 'sdw_workload_nodes_desired')).toEqual(['sdw_workload_nodes_desired{namespace="team-a",workload="web"} 3']);
    expect(series(text, 'sdw_workload_nodes_ready')).toEqual(['sdw_workload_nodes_ready{namespace="team-a",workload="web"} 2']);
    expect(series(text, 'sdw_workload_nodes_updated')).toEqual(['sdw_workload_nodes_updated{namespace="team-a",workload="web"} 3']);
    expect(series(text, 'sdw_workload_nodes_failed')).toEqual(['sdw_workload_nodes_failed{namespace="team-a",workload="web"} 1']);
    expect(series(text, 'sdw_workload_restarts')).toEqual(['sdw_workload_restarts{namespace="team-a",workload="web"} 7']);
    expect(series(text, 'sdw_workload_generation_lag')).toEqual(['sdw_workload_generation_lag{namespace="team-a",workload="web"} 1']);
    expect(series(text, 'sdw_workload_condition')).toEqual([
      'sdw_workload_condition{namespace="team-a",workload="web",type="Stalled",status="True"} 1',
      'sdw_workload_condition{namespace="team-a",workload="web",type="Stalled",status="False"} 0',
      'sdw_workload_condition{namespace="team-a",workload="web",type="Stalled",status="Unknown"} 0',
    ]);
  });

  it('a deleted workload leaves no series behind', async () => {
    expect(series(await metrics.registry.metrics(), 'sdw_workload_nodes_ready')).toHaveLength(1);
    cache = [];
    const text = await metrics.registry.metrics();
    expect(text.split('\n').filter((l) => l.startsWith('sdw_workload_'))).toEqual([]);
  });

  it('a replica that does not lead exports none (one series per workload, from the leader)', async () => {
    leading = false;
    const text = await metrics.registry.metrics();
    expect(text.split('\n').filter((l) => l.startsWith('sdw_workload_'))).toEqual([]);
  });
});
