// The agent inside its pod stays within the DaemonSet's memory limit, idle and
// under churn (every unit of 50 rewritten and restarted, again and again, as
// in bench/footprint.ts), measured from its container's own cgroup: the
// working set kubelet compares with the limit. The figures are printed
// (MEMORY-RESULT) so the request and limit can be set from them.
import { apply, waitForWorkload } from '../../harness/assertions.js';
import type { Cluster } from '../../harness/cluster.js';
import { AGENT_DAEMONSET, agentPods, startDeployedOperator } from '../../harness/deployOperator.js';
import { OPERATOR_NAMESPACE } from '../../harness/operator.js';
import { delay } from '../../harness/process.js';

const NODE = 'node-a';
const WORKLOADS = ['churn-0', 'churn-1'];
const UNITS_PER_WORKLOAD = 25;
const CHURN_MS = 60_000;
const MiB = 1024 * 1024;

function workload(name: string, round: number): string {
  const units = Array.from(
    { length: UNITS_PER_WORKLOAD },
    (_, i) => `  - {name: u${i}, command: ["/bin/sleep", "${1_000_000 + round}"], dynamicUser: true}`,
  );
  return `
apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: ${name}, namespace: default}
spec:
  nodeSelector: {kubernetes.io/hostname: ${NODE}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  units:
${units.join('\n')}
`;
}

function quantityBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  if (!m) throw new Error(`unexpected memory quantity ${q}`);
  return Number(m[1]) * ({ Ki: 1024, Mi: MiB, Gi: 1024 * MiB }[m[2] ?? ''] ?? 1);
}

describe('agent memory in its pod', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    ({ cluster } = await startDeployedOperator([NODE]));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("stays within the DaemonSet's memory limit, idle and under churn of 50 units", async () => {
    const limit = quantityBytes(
      await cluster.kubectlOk([
        'get',
        'daemonset',
        AGENT_DAEMONSET,
        '-n',
        OPERATOR_NAMESPACE,
        '-o',
        'jsonpath={.spec.template.spec.containers[0].resources.limits.memory}',
      ]),
    );
    const pod = (await agentPods(cluster)).get(NODE)!;
    const container = pod.status.containerStatuses![0]!;
    const node = cluster.kubeletNode(NODE);
    const read = async (): Promise<number> => (await node.containerMemory(container.containerID!)).workingSetBytes;

    for (const w of WORKLOADS) await apply(cluster, workload(w, 0));
    for (const w of WORKLOADS) await waitForWorkload(cluster, w, 'Running', (x) => x.status?.readyNodes === 1, 180_000);
    await delay(10_000);
    const idle = await read();

    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await read());
        await delay(1000);
      }
    })();
    const start = Date.now();
    let rounds = 0;
    try {
      while (Date.now() - start < CHURN_MS) {
        rounds++;
        for (const w of WORKLOADS) await apply(cluster, workload(w, rounds));
        for (const w of WORKLOADS) {
          await waitForWorkload(
            cluster,
            w,
            `round ${rounds} rolled out`,
            (x) => x.status?.updatedNodes === 1 && x.status.readyNodes === 1,
            180_000,
          );
        }
      }
    } finally {
      sampling = false;
      await sampler;
    }
    const peak = Math.max(...samples);
    console.log(
      `MEMORY-RESULT ${JSON.stringify({
        idleWorkingSetMiB: +(idle / MiB).toFixed(1),
        churnPeakWorkingSetMiB: +(peak / MiB).toFixed(1),
        churnMedianWorkingSetMiB: +((samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0) / MiB).toFixed(1),
        limitMiB: limit / MiB,
        rounds,
        unitRestarts: rounds * WORKLOADS.length * UNITS_PER_WORKLOAD,
      })}`,
    );

    expect(rounds).toBeGreaterThan(1);
    expect(peak).toBeLessThan(limit);
    const after = (await agentPods(cluster)).get(NODE)!;
    expect(after.metadata.uid).toBe(pod.metadata.uid);
    expect(after.status.containerStatuses?.[0]?.restartCount).toBe(0);
  });
});
