// One control plane per jest worker, shared by the test files that need only a namespace of
// their own: no nodes, no cluster-scoped objects of their own, no controller of the project's,
// and nothing done to the control plane itself (the informer test freezes its API server: it
// keeps its own). Such a file then pays for a namespace instead of a control plane (etcd,
// kube-apiserver, kube-controller-manager: seconds of the 2 shared cores each time).
//
// Jest gives each test file a fresh module registry in the same worker process, so nothing in
// memory outlives a file: the worker's control plane is found by the worker's PID and start
// time, in a state file under the cache's run directory (run/shared-<pid>-<start>/state.json).
// It outlives the file that started it, so no file stops it: a watchdog (shared-watchdog.sh,
// detached in a session of its own) waits for the worker to exit, then ends the processes the
// harness started there by their PIDs (DIR/pids) and removes the directory.
import * as k8s from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { binaries, cacheRoot, repoRoot } from './binaries.js';
import { installCrds } from './cluster.js';
import { ControlPlane, DEFAULT_CONTROLLERS, runKubectl, type KubectlResult } from './controlPlane.js';
import type { ManagedProcess } from './process.js';

/** A namespace of its own on the worker's shared control plane, for one test file. */
export interface SharedNamespace {
  readonly namespace: string;
  /** A kubeconfig whose context's namespace is this one (kubectl without -n lands here). */
  readonly kubeconfigPath: string;
  readonly kc: k8s.KubeConfig;
  /** The API server's URL: the same for every file of the worker. */
  readonly server: string;
  kubectl(args: string[], opts?: { input?: string }): Promise<KubectlResult>;
  /** kubectl that throws with its stderr when it fails. */
  kubectlOk(args: string[], opts?: { input?: string }): Promise<string>;
  /** Deletes the namespace (the namespace controller empties it in the background). */
  release(): Promise<void>;
}

/** What a worker's files find of its control plane (state.json). */
export interface SharedState {
  worker: { pid: number; start: string };
  dir: string;
  server: string;
  kubeconfig: string;
  /** The processes the harness started, as the watchdog reads them (DIR/pids). */
  processes: Array<{ name: string; pid: number; start: string }>;
  crds: boolean;
}

/** Field 22 of /proc/PID/stat: the start time, in clock ticks since boot (a PID's identity over reuse). */
export function startTime(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' ? undefined : f[19];
  } catch {
    return undefined;
  }
}

/** The directory of this worker's shared control plane. */
export function sharedDir(): string {
  return path.join(cacheRoot(), 'run', `shared-${process.pid}-${startTime('self')}`);
}

/**
 * A new namespace (`prefix`-<random>) on this worker's shared control plane, started on first
 * use. crds: the project's CRDs installed there (once; they stay for the worker's later files).
 */
export async function sharedNamespace(prefix: string, opts: { crds?: boolean } = {}): Promise<SharedNamespace> {
  let state = await healthyState();
  if (!state) state = await startShared();
  if (opts.crds && !state.crds) {
    await installCrds((args) => runKubectl(kubectlBin(), state.kubeconfig, args));
    state.crds = true;
    await writeState(state);
  }
  const namespace = `${prefix}-${randomBytes(3).toString('hex')}`;
  const kubeconfigPath = path.join(state.dir, `kubeconfig-${namespace}`);
  const base = await fs.readFile(state.kubeconfig, 'utf8');
  const own = base.replace(/namespace: default\}/, `namespace: ${namespace}}`);
  if (own === base) throw new Error(`${state.kubeconfig}: no context namespace to set (ControlPlane.writeKubeconfig changed?)`);
  await fs.writeFile(kubeconfigPath, own, { mode: 0o600 });
  const kubectl = (args: string[], o: { input?: string } = {}): Promise<KubectlResult> =>
    runKubectl(kubectlBin(), kubeconfigPath, args, o.input);
  const kubectlOk = async (args: string[], o: { input?: string } = {}): Promise<string> => {
    const r = await kubectl(args, o);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  await kubectlOk(['create', 'namespace', namespace]);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    namespace,
    kubeconfigPath,
    kc,
    server: state.server,
    kubectl,
    kubectlOk,
    release: async () => {
      await kubectlOk(['delete', 'namespace', namespace, '--wait=false']);
      await fs.rm(kubeconfigPath, { force: true });
    },
  };
}

function kubectlBin(): string {
  return binaries().kubectl;
}

async function writeState(state: SharedState): Promise<void> {
  const tmp = path.join(state.dir, 'state.json.tmp');
  await fs.writeFile(tmp, JSON.stringify(state, null, 2));
  await fs.rename(tmp, path.join(state.dir, 'state.json'));
}

/** This worker's control plane if an earlier file started it and it still answers; else undefined (ended). */
async function healthyState(): Promise<SharedState | undefined> {
  const file = path.join(sharedDir(), 'state.json');
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(await fs.readFile(file, 'utf8')) as SharedState;
  const alive = state.processes.every((p) => startTime(p.pid) === p.start);
  const ready = alive && (await runKubectl(kubectlBin(), state.kubeconfig, ['get', '--raw', '/readyz'])).stdout === 'ok';
  if (ready) return state;
  // An earlier file broke it (or it died): end what is left of it and start again.
  for (const p of state.processes) if (startTime(p.pid) === p.start) process.kill(p.pid, 'SIGKILL');
  await fs.rm(state.dir, { recursive: true, force: true });
  return undefined;
}

async function startShared(): Promise<SharedState> {
  const dir = sharedDir();
  await fs.mkdir(dir, { recursive: true });
  // The watchdog first: whatever happens to this worker from here on, it cleans up.
  const watchdog = spawn(path.join(repoRoot, 'test', 'harness', 'shared-watchdog.sh'), [String(process.pid), startTime('self')!, dir], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
  const cp = new ControlPlane({ dir: path.join(dir, 'control-plane'), controllers: DEFAULT_CONTROLLERS });
  const state: SharedState = {
    worker: { pid: process.pid, start: startTime('self')! },
    dir,
    server: '',
    kubeconfig: cp.kubeconfigPath,
    processes: [],
    crds: false,
  };
  try {
    await cp.start();
  } catch (err) {
    await cp.stop();
    throw err;
  }
  const started = [cp.etcd, cp.apiserver, cp.controllerManager].filter((p): p is ManagedProcess => p?.pid !== undefined);
  // They outlive this file and its worker (the watchdog ends them): the worker may exit while they run.
  for (const p of started) p.unref();
  state.processes = started.map((p) => ({ name: p.name, pid: p.pid!, start: startTime(p.pid!) ?? '' }));
  await fs.writeFile(path.join(dir, 'pids'), state.processes.map((p) => `${p.pid} ${p.start} ${p.name}\n`).join(''));
  state.server = cp.server;
  await writeState(state);
  return state;
}
