// The shared control plane (test/harness/sharedCluster.ts) as two test files of one jest worker
// meet it, and what is left once the worker is gone: nothing. A child process stands for the
// worker: it asks for two namespaces (as two files would; the second finds the control plane
// through the state file only, the harness keeps nothing in memory), writes into each through
// its own kubeconfig, prints what it saw and exits without stopping anything. The watchdog must
// then end every process the harness started, by PID, and remove the directory.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../harness/binaries.js';
import { waitFor } from '../../harness/process.js';
import { startTime, type SharedState } from '../../harness/sharedCluster.js';

const execFileP = promisify(execFile);

// Runs in the child, against the compiled harness (make test builds dist/ first).
const WORKER = `
const { readFileSync } = await import('node:fs');
const path = await import('node:path');
const { sharedNamespace, sharedDir } = await import(process.argv[1]);
const a = await sharedNamespace('first');
const b = await sharedNamespace('second', { crds: true });
for (const ns of [a, b]) await ns.kubectlOk(['create', 'configmap', 'mine', '--from-literal=ns=' + ns.namespace]);
const read = async (ns) => (await ns.kubectlOk(['get', 'configmap', 'mine', '-o', 'jsonpath={.data.ns}']));
const crds = (await b.kubectlOk(['get', 'crd', '-o', 'name'])).trim().split('\\n');
const state = JSON.parse(readFileSync(path.join(sharedDir(), 'state.json'), 'utf8'));
console.log(JSON.stringify({ a: [a.namespace, a.server, await read(a)], b: [b.namespace, b.server, await read(b)], crds, state }));
`;

describe('shared control plane of a jest worker', () => {
  it('serves every file of the worker a namespace of its own, and is gone with the worker', async () => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // jest's --experimental-vm-modules is not for the child
    const { stdout } = await execFileP(
      'node',
      ['--input-type=module', '-e', WORKER, path.join(repoRoot, 'dist', 'test', 'harness', 'sharedCluster.js')],
      { env, timeout: 120_000 },
    );
    const seen = JSON.parse(stdout.trim().split('\n').pop()!) as {
      a: [string, string, string];
      b: [string, string, string];
      crds: string[];
      state: SharedState;
    };
    const [[nsA, serverA, inA], [nsB, serverB, inB]] = [seen.a, seen.b];
    // One API server, two namespaces, each file's kubectl lands in its own.
    expect(serverB).toBe(serverA);
    expect(nsA).toMatch(/^first-[0-9a-f]{6}$/);
    expect(nsB).toMatch(/^second-[0-9a-f]{6}$/);
    expect([inA, inB]).toEqual([nsA, nsB]);
    expect(seen.crds).toContain('customresourcedefinition.apiextensions.k8s.io/systemdworkloads.systemd.operators.dev');
    expect(seen.state.crds).toBe(true);
    expect(seen.state.processes.map((p) => p.name)).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager']);

    // The worker has exited: the watchdog ends its control plane and removes the directory. A
    // process has ended when its PID is gone, is a zombie or is another process (startTime).
    const running = (): string[] => seen.state.processes.filter((p) => startTime(p.pid) === p.start).map((p) => p.name);
    await waitFor(
      'the watchdog to end the control plane and remove its directory',
      async () => !existsSync(seen.state.dir) && running().length === 0,
      30_000,
      250,
    );
    expect(existsSync(`${seen.state.dir}.watchdog.log`)).toBe(false);
  });
});
