// Where the Go-built control-plane binaries live: the cache directory that
// hack/k8s/build.sh fills, keyed by the versions pinned in hack/k8s/versions.env.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file with package.json (from src or dist). */
export const repoRoot = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
})();

export interface Binaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
  /** Built beside the control plane, needed only by kubelet nodes: see kubeletBinaries(). */
  kubeScheduler: string;
  kubelet: string;
  k8sVersion: string;
}

export function cacheRoot(): string {
  return process.env.SDW_CACHE ?? path.join(os.homedir(), '.cache', 'systemd-workload-operator');
}

export function binaries(): Binaries {
  const env = readFileSync(path.join(repoRoot, 'hack', 'k8s', 'versions.env'), 'utf8');
  const get = (k: string): string => {
    const m = new RegExp(`^${k}=(\\S+)`, 'm').exec(env);
    if (!m?.[1]) throw new Error(`hack/k8s/versions.env has no ${k}`);
    return m[1];
  };
  const k8s = get('K8S_VERSION');
  const dir = path.join(cacheRoot(), `k8s-${k8s}-etcd-${get('ETCD_VERSION')}`, 'bin');
  const b: Binaries = {
    dir,
    etcd: path.join(dir, 'etcd'),
    kubeApiserver: path.join(dir, 'kube-apiserver'),
    kubeControllerManager: path.join(dir, 'kube-controller-manager'),
    kubectl: path.join(dir, 'kubectl'),
    kubeScheduler: path.join(dir, 'kube-scheduler'),
    kubelet: path.join(dir, 'kubelet'),
    k8sVersion: k8s,
  };
  requireFiles([b.etcd, b.kubeApiserver, b.kubeControllerManager, b.kubectl]);
  return b;
}

/** binaries(), and also kubelet and kube-scheduler, which clusters with kubelet nodes need. */
export function kubeletBinaries(): Binaries {
  const b = binaries();
  requireFiles([b.kubelet, b.kubeScheduler]);
  return b;
}

function requireFiles(paths: string[]): void {
  for (const p of paths) {
    if (!existsSync(p)) throw new Error(`${p} is missing: run 'make k8s-binaries' (hack/k8s/build.sh) first`);
  }
}
