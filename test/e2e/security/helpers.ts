// Shared by the security e2e tests: manifests as JSON (exact control over every
// value), installing config/policy with kubectl, and waiting for an admission
// policy (or a change of its parameters) to take effect.
import path from 'node:path';
import type { SystemdWorkloadPolicySpec } from '../../../src/api/types.js';
import { repoRoot } from '../../harness/binaries.js';
import type { Cluster } from '../../harness/cluster.js';
import { waitFor } from '../../harness/process.js';

export { manifest, unit, type Unit } from '../../cases/admission.js';

export function policyManifest(name: string, spec: SystemdWorkloadPolicySpec): string {
  return JSON.stringify({ apiVersion: 'systemd.operators.dev/v1alpha1', kind: 'SystemdWorkloadPolicy', metadata: { name }, spec });
}

/** kubectl apply -k config/policy: the admission policies exactly as shipped. */
export async function installAdmissionPolicies(cluster: Cluster): Promise<void> {
  await cluster.kubectlOk(['apply', '-k', path.join(repoRoot, 'config', 'policy')]);
}

export async function createNamespace(cluster: Cluster, ns: string, labels: Record<string, string> = {}): Promise<void> {
  await cluster.kubectlOk(['create', 'namespace', ns]);
  if (Object.keys(labels).length > 0) {
    await cluster.kubectlOk(['label', 'namespace', ns, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
  }
}

/**
 * Admission policies and their parameters reach the API server's evaluators
 * through informers: wait until a server-side dry run of `yaml` is refused
 * (or accepted, refused=false), then return kubectl's stderr.
 */
export async function waitForAdmission(cluster: Cluster, yaml: string, refused = true, timeoutMs = 90_000): Promise<string> {
  return waitFor(
    `admission to ${refused ? 'refuse' : 'accept'} a workload`,
    async () => {
      const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: yaml });
      return (r.code !== 0) === refused ? r.stderr || 'ok' : undefined;
    },
    timeoutMs,
    500,
  );
}
