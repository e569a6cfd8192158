// Measurement behind a fan-out fix: what one API write costs through client-node
// 1.x as it comes (a new https.Agent, so a new TCP + TLS connection, per request)
// and with src/kube/client.ts reuseConnections (one keep-alive agent), sequential
// and 16 in flight, interleaved, on one real API server. Each round creates and
// deletes CLIENT_N ConfigMaps.
//
// Usage: node dist/bench/client-reuse.js   (env: CLIENT_N=200 CLIENT_REPS=3)
import * as k8s from '@kubernetes/client-node';
import { forEachLimited } from '../src/kube/concurrency.js';
import { reuseConnections } from '../src/kube/client.js';
import { Cluster } from '../test/harness/cluster.js';
import { env, machine, mdMachine, mdTable, median, r3, writeResults } from './common.js';

const N = env('CLIENT_N', 200);
const REPS = env('CLIENT_REPS', 3);

async function round(kc: k8s.KubeConfig, prefix: string, conc: number): Promise<number> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const names = Array.from({ length: N }, (_, i) => `${prefix}-${i}`);
  const t0 = performance.now();
  await forEachLimited(names, conc, async (name) => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name }, data: { a: 'b' } } });
  });
  const t = (performance.now() - t0) / 1000;
  await forEachLimited(names, 16, async (name) => {
    await core.deleteNamespacedConfigMap({ name, namespace: 'default' });
  });
  return t;
}

async function main(): Promise<void> {
  const m = machine();
  const cluster = await Cluster.start({ crds: false });
  try {
    const stock = new k8s.KubeConfig();
    stock.loadFromFile(cluster.kubeconfigPath);
    const reused = new k8s.KubeConfig();
    reused.loadFromFile(cluster.kubeconfigPath);
    reuseConnections(reused);
    const res: Record<string, number[]> = { 'stock seq': [], 'stock 16': [], 'reuse seq': [], 'reuse 16': [] };
    for (let r = 0; r < REPS; r++) {
      res['stock seq']!.push(await round(stock, `s1-${r}`, 1));
      res['reuse seq']!.push(await round(reused, `r1-${r}`, 1));
      res['stock 16']!.push(await round(stock, `s16-${r}`, 16));
      res['reuse 16']!.push(await round(reused, `r16-${r}`, 16));
      console.log(
        `rep ${r}: ${Object.entries(res)
          .map(([k, v]) => `${k} ${r3(v.at(-1)!)} s`)
          .join(', ')}`,
      );
    }
    const summary = Object.fromEntries(
      Object.entries(res).map(([k, v]) => [k, { medianSeconds: r3(median(v)), msPerWrite: r3((median(v) * 1000) / N) }]),
    );
    await writeResults(
      'client-reuse',
      { machine: m, n: N, reps: REPS, summary, runs: res },
      [
        `# client-reuse: ${N} API creates through @kubernetes/client-node`,
        '',
        `Produced by \`node dist/bench/client-reuse.js\` (env CLIENT_N=${N} CLIENT_REPS=${REPS}); interleaved. stock = client-node 1.4 as it comes (new https.Agent per request: a TCP + TLS handshake per call); reuse = src/kube/client.ts reuseConnections (one keep-alive agent).`,
        '',
        ...mdTable(
          ['client, in flight', 'median (s)', 'ms per create'],
          Object.entries(summary).map(([k, v]) => [k, v.medianSeconds, v.msPerWrite]),
        ),
        '',
        ...mdMachine(m),
      ].join('\n'),
    );
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
