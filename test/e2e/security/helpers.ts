// Shared by the security e2e tests: manifests as JSON (exact control over every
// value), installing config/policy with kubectl, and waiting for an admission
// policy (or a change of its parameters) to take effect.
import path from 'node:path';
import type { SystemdWorkloadPolicySpec } from '../../../src/api/types.js';
import { repoRoot } from '../../harness/binaries.js';
import type { Cluster } from '../../harness/cluster.js';
import { waitFor } from '../../harness/process.js';

export type Unit = Record<string, unknown>;
/** A unit that passes the root default (dynamicUser); cases change one field. */
export const unit = (x: Unit = {}): Unit => ({ name: 'main', command: ['/bin/sleep', 'infinity'], dynamicUser: true, ...x });

export function manifest(name: string, spec: Record<string, unknown>, ns = 'default'): string {
  return JSON.stringify({ apiVersion: 'systemd.operators.dev/v1alpha1', kind: 'SystemdWorkload', metadata: { name, namespace: ns }, spec });
}

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
  return waitFor(`admission to ${refused ? 'refuse' : 'accept'} a workload`, async () => {
    const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: yaml });
    return (r.code !== 0) === refused ? r.stderr || 'ok' : undefined;
  }, timeoutMs, 500);
}

/** The schema/CEL rejections (name, spec, field + message): admission.test.ts checks them alone, bad-inputs.test.ts against real nodes. */
export const SCHEMA_CASES: Array<[string, Record<string, unknown>, RegExp]> = [
  ['bad unit name', { units: [unit({ name: 'Bad_Name' })] }, /spec\.units\[0\]\.name/],
  ['duplicate unit names', { units: [unit(), unit()] }, /spec\.units\[1\].*Duplicate value/],
  ['relative command path', { units: [unit({ command: ['bin/sleep', '1'] })] }, /spec\.units\[0\]\.command.*absolute path/],
  ['newline in an argument', { units: [unit({ command: ['/bin/echo', 'a\nExecStartPre=/bin/evil'] })] }, /spec\.units\[0\]\.command\[1\]/],
  ['invalid env name', { units: [unit({ env: [{ name: '1BAD', value: 'x' }] })] }, /spec\.units\[0\]\.env\[0\]\.name/],
  ['after names a missing unit', { units: [unit({ after: ['db'] })] }, /spec\.units.*must name units of this workload/],
  ['requires names a missing unit', { units: [unit({ requires: ['db'] })] }, /spec\.units.*must name units of this workload/],
  ['a unit ordered after itself', { units: [unit({ after: ['main'] })] }, /spec\.units\[0\]\.after.*must not list itself/],
  ['two units ordered after each other', { units: [unit({ name: 'a', after: ['b'] }), unit({ name: 'b', after: ['a'] })] }, /spec\.units.*ordering cycle/],
  ['bad cron: minute 61', { units: [unit({ schedule: '61 * * * *', type: 'oneshot' })] }, /spec\.units\[0\]\.schedule/],
  ['bad cron: four fields', { units: [unit({ schedule: '* * * *', type: 'oneshot' })] }, /spec\.units\[0\]\.schedule/],
  ['bad memory quantity', { units: [unit({ resources: { limits: { memory: 'lots' } } })] }, /spec\.units\[0\]\.resources\.limits\.memory/],
  ['zero cpu limit', { units: [unit({ resources: { limits: { cpu: '0' } } })] }, /spec\.units\[0\]\.resources\.limits\.cpu/],
  ['tasks 0', { units: [unit({ resources: { limits: { tasks: 0 } } })] }, /spec\.units\[0\]\.resources\.limits\.tasks/],
  ['maxUnavailable 0', { units: [unit()], updateStrategy: { rollingUpdate: { maxUnavailable: 0 } } }, /spec\.updateStrategy\.rollingUpdate\.maxUnavailable/],
  ['maxUnavailable 150%', { units: [unit()], updateStrategy: { rollingUpdate: { maxUnavailable: '150%' } } }, /spec\.updateStrategy\.rollingUpdate\.maxUnavailable/],
  ['user and dynamicUser both set', { units: [unit({ user: 'nobody', dynamicUser: true })] }, /spec\.units\[0\]\.user/],
  ['too many units', { units: Array.from({ length: 33 }, (_, i) => unit({ name: `u${i}` })) }, /spec\.units.*(Too many|must have at most)/],
  ['no units', { units: [] }, /spec\.units/],
  ['relative workingDirectory', { units: [unit({ workingDirectory: 'var/lib/x' })] }, /spec\.units\[0\]\.workingDirectory/],
  ['workingDirectory with ..', { units: [unit({ workingDirectory: '/var/../etc' })] }, /spec\.units\[0\]\.workingDirectory/],
  ['unknown restart policy', { units: [unit({ restart: { policy: 'Sometimes' } })] }, /spec\.units\[0\]\.restart\.policy/],
  ['negative restart delay', { units: [unit({ restart: { delaySeconds: -1 } })] }, /spec\.units\[0\]\.restart\.delaySeconds/],
  ['oneshot with restart Always', { units: [unit({ type: 'oneshot', restart: { policy: 'Always' } })] }, /spec\.units\[0\]\.restart\.policy/],
  ['unknown unit type', { units: [unit({ type: 'daemon' })] }, /spec\.units\[0\]\.type/],
  ['timeZone without schedule', { units: [unit({ timeZone: 'Europe/Berlin' })] }, /spec\.units\[0\]\.timeZone/],
  ['missing command', { units: [{ name: 'main', dynamicUser: true }] }, /spec\.units\[0\]\.command.*Required/],
  ['Exists toleration with a value', { units: [unit()], tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] }, /spec\.tolerations\[0\]\.value/],
  ['negative minReadySeconds', { units: [unit()], minReadySeconds: -5 }, /spec\.minReadySeconds/],
  ['relative readWritePaths entry', { units: [unit({ sandbox: { readWritePaths: ['data'] } })] }, /spec\.units\[0\]\.sandbox\.readWritePaths\[0\]/],
];
