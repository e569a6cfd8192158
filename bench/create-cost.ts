// Measurement behind the fan-out comparison (bench/fanout.ts): what the API server
// itself spends to create one of our children (a SystemdUnitSet, a custom resource
// exactly as the controller builds it for `/bin/sleep infinity`) against one Pod as
// the DaemonSet controller makes it. Same API server, same client: plain node:https
// with keep-alive, 64 in flight (no @kubernetes/client-node, so the client's own cost
// is out of the figure), CREATE_N objects per round, kinds interleaved.
// API server and etcd CPU from /proc/<pid>/stat utime+stime.
//
// Usage: node dist/bench/create-cost.js   (env: CREATE_N=1000 CREATE_REPS=3)
import { readFileSync } from 'node:fs';
import https from 'node:https';
import {
  API_VERSION,
  GROUP,
  UNITSET_KIND,
  UNITSET_PLURAL,
  VERSION,
  WORKLOAD_KIND,
  WORKLOAD_PLURAL,
  type SystemdWorkload,
} from '../src/api/types.js';
import { CustomObjects, reuseConnections } from '../src/kube/client.js';
import { forEachLimited } from '../src/kube/concurrency.js';
import { render } from '../src/render/unit.js';
import { newChild, workloadRef } from '../src/controller/child.js';
import { Cluster } from '../test/harness/cluster.js';
import { env, machine, mdMachine, mdTable, median, procStats, r3, writeResults } from './common.js';

const N = env('CREATE_N', 1000);
const REPS = env('CREATE_REPS', 3);
const NS = 'default';

interface Round {
  kind: 'unitset' | 'pod';
  wallS: number;
  apiserverCpuS: number;
  etcdCpuS: number;
}

async function main(): Promise<void> {
  const m = machine();
  const cluster = await Cluster.start({});
  try {
    const kc = reuseConnections(cluster.kc);
    const wl = await new CustomObjects<SystemdWorkload>(kc, WORKLOAD_PLURAL).create(NS, {
      apiVersion: API_VERSION,
      kind: WORKLOAD_KIND,
      metadata: { name: 'cost', namespace: NS },
      spec: { nodeSelector: { bench: 'cost' }, units: [{ name: 'main', command: ['/bin/sleep', 'infinity'] }] },
    });
    const spec = render(wl, '');
    const owner = workloadRef(wl);
    if (!owner) throw new Error('the API server returned the workload without namespace, name or uid');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 64 });
    const caPem = readFileSync(cluster.controlPlane.caFile);
    const post = (urlPath: string, body: object): Promise<void> =>
      new Promise((resolve, reject) => {
        const req = https.request(
          `${cluster.controlPlane.server}${urlPath}`,
          {
            method: 'POST',
            agent,
            ca: caPem,
            headers: { Authorization: `Bearer ${cluster.controlPlane.adminToken}`, 'Content-Type': 'application/json' },
          },
          (res) => {
            let b = '';
            res.on('data', (c: Buffer) => (b += c.toString()));
            res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`${String(res.statusCode)} ${b}`))));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });
    const bodies = {
      unitset: (node: string): object => newChild(owner, node, { ...spec, nodeName: node }),
      pod: (name: string): object => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: NS, labels: { app: 'cost' } },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'main', image: 'registry.invalid/sleep:never-pulled', command: ['/bin/sleep', 'infinity'] }],
        },
      }),
    };
    const paths = { unitset: `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${UNITSET_PLURAL}`, pod: `/api/v1/namespaces/${NS}/pods` };
    const rounds: Round[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const order: Array<'unitset' | 'pod'> = rep % 2 === 0 ? ['unitset', 'pod'] : ['pod', 'unitset'];
      for (const kind of order) {
        const names = Array.from({ length: N }, (_, i) => `c${rep}-${i}`);
        const a0 = procStats(cluster.controlPlane.apiserver.pid!).cpuSeconds;
        const e0 = procStats(cluster.controlPlane.etcd.pid!).cpuSeconds;
        const t0 = performance.now();
        await forEachLimited(names, 64, (n) => post(paths[kind], bodies[kind](n)));
        const wallS = (performance.now() - t0) / 1000;
        const r: Round = {
          kind,
          wallS: r3(wallS),
          apiserverCpuS: r3(procStats(cluster.controlPlane.apiserver.pid!).cpuSeconds - a0),
          etcdCpuS: r3(procStats(cluster.controlPlane.etcd.pid!).cpuSeconds - e0),
        };
        rounds.push(r);
        console.log(`rep ${rep} ${kind}: ${r.wallS} s, kube-apiserver CPU ${r.apiserverCpuS} s, etcd CPU ${r.etcdCpuS} s`);
      }
    }
    const stat = (
      kind: 'unitset' | 'pod',
    ): { wallS: number; apiserverCpuMsPerCreate: number; etcdCpuMsPerCreate: number; bodyBytes: number } => {
      const rs = rounds.filter((r) => r.kind === kind);
      return {
        wallS: r3(median(rs.map((r) => r.wallS))),
        apiserverCpuMsPerCreate: r3((median(rs.map((r) => r.apiserverCpuS)) * 1000) / N),
        etcdCpuMsPerCreate: r3((median(rs.map((r) => r.etcdCpuS)) * 1000) / N),
        bodyBytes: JSON.stringify(bodies[kind]('node-0000')).length,
      };
    };
    const summary = { n: N, unitset: stat('unitset'), pod: stat('pod'), apiserverCpuRatio: 0 };
    summary.apiserverCpuRatio = r3(summary.unitset.apiserverCpuMsPerCreate / summary.pod.apiserverCpuMsPerCreate);
    const md = [
      `# create-cost: the API server's work per ${UNITSET_KIND} vs per Pod`,
      '',
      `Produced by \`node dist/bench/create-cost.js\` (\`make bench-create-cost\`; env CREATE_N=${N} CREATE_REPS=${REPS}). Method in the header of bench/create-cost.ts.`,
      '',
      ...mdTable(
        ['object', 'body (B)', `wall for ${N} (s)`, 'kube-apiserver CPU per create (ms)', 'etcd CPU per create (ms)'],
        [
          [
            `${UNITSET_KIND} (custom resource)`,
            summary.unitset.bodyBytes,
            summary.unitset.wallS,
            summary.unitset.apiserverCpuMsPerCreate,
            summary.unitset.etcdCpuMsPerCreate,
          ],
          ['Pod (built-in)', summary.pod.bodyBytes, summary.pod.wallS, summary.pod.apiserverCpuMsPerCreate, summary.pod.etcdCpuMsPerCreate],
        ],
      ),
      '',
      `kube-apiserver CPU per create, ${UNITSET_KIND}/Pod: **${summary.apiserverCpuRatio}**.`,
      '',
      ...mdMachine(m),
    ].join('\n');
    await writeResults('create-cost', { machine: m, method: 'see the header of bench/create-cost.ts', summary, rounds }, md);
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
