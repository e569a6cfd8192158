// The workload's health as GitOps tools read it, on real objects: a real
// controller and real agents on two systemd nodes drive workloads through a
// rollout, a pause, a crash loop past its progressDeadlineSeconds, a policy
// violation the controller finds, and a stable state. Each is fetched with
// kubectl -o json and judged by kstatus itself (sigs.k8s.io/cli-utils: Flux,
// kpt, helm --wait) and by the shipped Argo CD health check run in lua5.4.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SystemdWorkload } from '../../../src/api/types.js';
import type { Cluster } from '../../harness/cluster.js';
import { startOperatorCluster, type OperatorCluster } from '../../harness/operatorCluster.js';
import { apply, eventsFor, waitForWorkload } from '../../harness/assertions.js';
import { waitFor } from '../../harness/process.js';
import { repoRoot } from '../../harness/binaries.js';
import { ARGOCD_HEALTH_LUA, argocdHealthOf, kstatusOf, type Verdict } from '../../harness/gitopsHealth.js';

const NODES = ['hs-1', 'hs-2'];
const SELECTOR = { role: 'health' };

function manifest(name: string, spec: Record<string, unknown>, ns = 'default'): string {
  return JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: ns },
    spec: { nodeSelector: SELECTOR, ...spec },
  });
}

const sleeper = (arg = 'infinity') => [{ name: 'main', command: ['/bin/sleep', arg] }];
const cond = (w: SystemdWorkload, type: string) => w.status?.conditions?.find((c) => c.type === type);

describe('controller: health conditions as kstatus and Argo CD read them', () => {
  let cluster: Cluster;
  let operator: OperatorCluster | undefined;

  /** The object as kubectl prints it, and what kstatus and the Argo CD check say of it. */
  async function judged(name: string, ns = 'default'): Promise<{ obj: SystemdWorkload; kstatus: Verdict; argocd: Verdict }> {
    const json = await cluster.kubectlOk(['get', 'sdw', name, '-n', ns, '-o', 'json']);
    return { obj: JSON.parse(json) as SystemdWorkload, kstatus: await kstatusOf(json), argocd: await argocdHealthOf(json) };
  }

  beforeAll(async () => {
    operator = await startOperatorCluster({ nodes: NODES.map((name) => ({ name, labels: SELECTOR })) });
    cluster = operator.cluster;
  });

  afterAll(async () => {
    await operator?.stop();
  });

  it('stable: Ready True, kstatus Current, Argo CD Healthy, and kubectl wait --for=condition=Ready returns', async () => {
    await apply(cluster, manifest('steady', { units: sleeper() }));
    const wait = await cluster.kubectl(['wait', '--for=condition=Ready', 'sdw/steady', '--timeout=120s']);
    expect(wait.code).toBe(0);
    expect(wait.stdout).toContain('condition met');
    const { obj, kstatus, argocd } = await judged('steady');
    expect(obj.status).toMatchObject({ phase: 'Running', readyNodes: 2, updatedNodes: 2 });
    expect(cond(obj, 'Ready')).toMatchObject({ status: 'True', reason: 'RolloutComplete' });
    expect(cond(obj, 'Reconciling')?.status).toBe('False');
    expect(cond(obj, 'Stalled')?.status).toBe('False');
    expect(kstatus.status).toBe('Current');
    expect(argocd).toEqual({ status: 'Healthy', message: 'RolloutComplete: 2 nodes updated and ready' });
  });

  it('rolling out: Reconciling True, kstatus InProgress, Argo CD Progressing; paused mid-rollout: Argo CD Suspended', async () => {
    // minReadySeconds far beyond the test: the nodes run the units but none counts as ready, so the rollout stays in progress.
    await apply(cluster, manifest('rolling', { units: sleeper(), minReadySeconds: 3600 }));
    const rolling = await waitForWorkload(
      cluster,
      'rolling',
      'units applied, none ready yet',
      (w) => (w.status?.updatedNodes ?? 0) > 0,
      120_000,
    );
    expect(rolling.status?.readyNodes).toBe(0);
    let { obj, kstatus, argocd } = await judged('rolling');
    expect(cond(obj, 'Reconciling')).toMatchObject({ status: 'True' });
    expect(cond(obj, 'Ready')?.status).toBe('False');
    expect(kstatus).toEqual({ status: 'InProgress', message: cond(obj, 'Reconciling')!.message });
    expect(argocd.status).toBe('Progressing');

    await apply(cluster, manifest('rolling', { units: sleeper('3600'), minReadySeconds: 3600, paused: true }));
    await waitForWorkload(cluster, 'rolling', 'paused', (w) => cond(w, 'Reconciling')?.reason === 'RolloutPaused', 60_000);
    ({ obj, kstatus, argocd } = await judged('rolling'));
    expect(kstatus.status).toBe('InProgress');
    expect(argocd.status).toBe('Suspended');
    expect(argocd.message).toMatch(/^RolloutPaused: paused: 0 of 2 nodes updated/);
  });

  it('crash loop: InProgress within progressDeadlineSeconds, then Stalled (ProgressDeadlineExceeded): kstatus Failed, Argo CD Degraded, a Warning Event', async () => {
    const crashing = (deadline: number) =>
      manifest('crashy', {
        progressDeadlineSeconds: deadline,
        units: [{ name: 'main', command: ['/bin/sh', '-c', 'sleep 1; exit 3'], restart: { policy: 'Always', delaySeconds: 1 } }],
      });
    await apply(cluster, crashing(600));
    await waitForWorkload(
      cluster,
      'crashy',
      'crashed on a node',
      (w) => (w.status?.nodes ?? []).some((n) => n.restarts > 0 || n.phase === 'Failed'),
      120_000,
    );
    let { obj, kstatus, argocd } = await judged('crashy');
    expect(cond(obj, 'Stalled')?.status).toBe('False');
    expect(kstatus.status).toBe('InProgress');
    expect(argocd.status).toBe('Progressing');

    // A short deadline: the spec change restarts the clock, and nothing progresses after it.
    await apply(cluster, crashing(10));
    await waitForWorkload(cluster, 'crashy', 'Stalled', (w) => cond(w, 'Stalled')?.status === 'True', 120_000);
    ({ obj, kstatus, argocd } = await judged('crashy'));
    const stalled = cond(obj, 'Stalled')!;
    expect(stalled.reason).toBe('ProgressDeadlineExceeded');
    expect(stalled.message).toMatch(/^no progress for 10s \(progressDeadlineSeconds\): 2 of 2 nodes updated, \d ready/);
    expect(cond(obj, 'Reconciling')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(cond(obj, 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(kstatus).toEqual({ status: 'Failed', message: stalled.message });
    expect(argocd).toEqual({ status: 'Degraded', message: `ProgressDeadlineExceeded: ${stalled.message}` });
    // The controller records its Events after it writes the status: poll for it, then count.
    const events = await waitFor('the ProgressDeadlineExceeded Event', async () => {
      const deadline = (await eventsFor(cluster, 'SystemdWorkload', 'crashy')).filter((e) => e.reason === 'ProgressDeadlineExceeded');
      return deadline.length > 0 ? deadline : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'Warning', message: expect.stringMatching(/^no progress for 10s/) as unknown });
  });

  it('policy violation the controller finds: Stalled (PolicyViolation), kstatus Failed, Argo CD Degraded', async () => {
    // The test cluster has the CRDs but not the admission policy, so only the controller refuses it.
    await cluster.kubectlOk(['create', 'namespace', 'fenced']);
    await apply(
      cluster,
      JSON.stringify({
        apiVersion: 'systemd.operators.dev/v1alpha1',
        kind: 'SystemdWorkloadPolicy',
        metadata: { name: 'fenced' },
        spec: { namespaces: ['fenced'], allowedExecutables: ['/bin/sleep'] },
      }),
    );
    await apply(cluster, manifest('refused', { units: [{ name: 'main', command: ['/bin/sh', '-c', 'sleep infinity'] }] }, 'fenced'));
    await waitForWorkload(cluster, 'refused', 'Stalled', (w) => cond(w, 'Stalled')?.status === 'True', 60_000, 'fenced');
    const { obj, kstatus, argocd } = await judged('refused', 'fenced');
    const stalled = cond(obj, 'Stalled')!;
    expect(stalled).toMatchObject({
      reason: 'PolicyViolation',
      message: expect.stringContaining("'/bin/sh' is not an allowed executable") as unknown,
    });
    expect(kstatus).toEqual({ status: 'Failed', message: stalled.message });
    expect(argocd).toEqual({ status: 'Degraded', message: `PolicyViolation: ${stalled.message}` });
  });

  it('config/argocd renders the check into argocd-cm, and the merge patch keeps the ConfigMap’s other keys', async () => {
    await cluster.kubectlOk(['create', 'namespace', 'argocd']);
    await cluster.kubectlOk(['create', 'configmap', 'argocd-cm', '-n', 'argocd', '--from-literal=url=https://argocd.example']);
    const patch = await cluster.kubectlOk(['kustomize', path.join(repoRoot, 'config', 'argocd')]);
    await cluster.kubectlOk(['-n', 'argocd', 'patch', 'configmap', 'argocd-cm', '--type', 'merge', '--patch', patch]);
    const cm = JSON.parse(await cluster.kubectlOk(['get', 'configmap', 'argocd-cm', '-n', 'argocd', '-o', 'json'])) as {
      data: Record<string, string>;
    };
    expect(cm.data).toEqual({
      url: 'https://argocd.example',
      'resource.customizations.health.systemd.operators.dev_SystemdWorkload': readFileSync(ARGOCD_HEALTH_LUA, 'utf8'),
    });
  });
});
