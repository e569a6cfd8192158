// helm for the chart's tests: the release pinned in hack/helm/version.env, which
// hack/helm/build.sh (make helm) builds from the Go module proxy into the cache.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot, repoRoot } from './binaries.js';
import type { KubectlResult } from './controlPlane.js';

export const CHART_DIR = path.join(repoRoot, 'deploy', 'helm', 'systemd-workload-operator');

export function helmBinary(): string {
  const env = readFileSync(path.join(repoRoot, 'hack', 'helm', 'version.env'), 'utf8');
  const version = /^HELM_VERSION=(\S+)/m.exec(env)?.[1];
  if (!version) throw new Error('hack/helm/version.env has no HELM_VERSION');
  const bin = path.join(cacheRoot(), `helm-${version}`, 'bin', 'helm');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run 'make helm' (hack/helm/build.sh) first`);
  return bin;
}

/** helm ARGS (with KUBECONFIG when given); never throws on a non-zero exit. */
export function runHelm(args: string[], opts: { kubeconfig?: string } = {}): Promise<KubectlResult> {
  // Helm's own state (repositories, cache) in a scratch place, not the user's ~/.config/helm.
  const scratch = path.join(cacheRoot(), 'helm-home');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HELM_CONFIG_HOME: path.join(scratch, 'config'),
    HELM_CACHE_HOME: path.join(scratch, 'cache'),
    HELM_DATA_HOME: path.join(scratch, 'data'),
  };
  if (opts.kubeconfig) env.KUBECONFIG = opts.kubeconfig;
  return new Promise((resolve) => {
    execFile(helmBinary(), args, { env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr });
    });
  });
}

/** helm ARGS that throws with its stderr when it fails. */
export async function helmOk(args: string[], opts: { kubeconfig?: string } = {}): Promise<string> {
  const r = await runHelm(args, opts);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
