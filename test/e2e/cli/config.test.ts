// The deploy manifests cannot rot: config/default (kustomize) and the Helm chart
// are built and sent to a real API server with a server-side dry run (schema,
// defaulting, admission, RBAC object validation), and the chart is compared with
// kustomize's output for the objects that matter.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { Cluster } from '../../harness/cluster.js';
import { repoRoot } from '../../harness/binaries.js';
import { renderChart } from '../../harness/cliHelpers.js';

const NS = 'systemd-workload-operator';
type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

describe('deploy manifests on a real API server', () => {
  let cluster: Cluster;
  let kustomized: string;

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: [], controllers: ['namespace'] });
    kustomized = await cluster.kubectlOk(['kustomize', path.join(repoRoot, 'config', 'default')]);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('kustomize builds the expected objects, all in the operator namespace', () => {
    const objs = loadAllYaml(kustomized) as Obj[];
    const ids = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(ids).toEqual([
      'ClusterRole/systemd-workload-agent', 'ClusterRole/systemd-workload-controller', 'ClusterRole/systemd-workload-editor', 'ClusterRole/systemd-workload-viewer',
      'ClusterRoleBinding/systemd-workload-agent', 'ClusterRoleBinding/systemd-workload-controller',
      'CustomResourceDefinition/systemdunitsets.systemd.operators.dev', 'CustomResourceDefinition/systemdworkloadpolicies.systemd.operators.dev',
      'CustomResourceDefinition/systemdworkloads.systemd.operators.dev',
      'DaemonSet/systemd-workload-agent', 'Deployment/systemd-workload-controller', `Namespace/${NS}`,
      'Role/systemd-workload-agent-leases', 'Role/systemd-workload-controller-leases',
      'RoleBinding/systemd-workload-agent-leases', 'RoleBinding/systemd-workload-controller-leases',
      'Service/systemd-workload-agent-metrics', 'Service/systemd-workload-controller-metrics',
      'ServiceAccount/systemd-workload-agent', 'ServiceAccount/systemd-workload-controller',
      'ValidatingAdmissionPolicy/systemd-workload-agent-node-identity', 'ValidatingAdmissionPolicyBinding/systemd-workload-agent-node-identity',
      'ValidatingAdmissionPolicy/systemd-workload-default-no-root', 'ValidatingAdmissionPolicyBinding/systemd-workload-default-no-root',
      'ValidatingAdmissionPolicy/systemd-workload-policy', 'ValidatingAdmissionPolicyBinding/systemd-workload-policy',
    ].sort());
    const namespaced = objs.filter((o) => !['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'].includes(o.kind));
    expect(namespaced.every((o) => o.metadata.namespace === NS)).toBe(true);
    const bindings = objs.filter((o) => o.kind.endsWith('Binding') && 'subjects' in o) as unknown as Array<{ subjects: Array<{ namespace: string }> }>;
    expect(bindings.flatMap((b) => b.subjects).every((s) => s.namespace === NS)).toBe(true);
  });

  it('the server accepts config/default (server-side dry run, after creating the namespace)', async () => {
    await cluster.kubectlOk(['create', 'namespace', NS]);
    const out = await cluster.kubectlOk(['apply', '--dry-run=server', '-k', path.join(repoRoot, 'config', 'default')]);
    expect(out).toMatch(/deployment\.apps\/systemd-workload-controller (created|configured|unchanged) \(server dry run\)/);
    expect(out).toMatch(/daemonset\.apps\/systemd-workload-agent (created|configured|unchanged) \(server dry run\)/);
    expect(out).toMatch(/clusterrole\.rbac\.authorization\.k8s\.io\/systemd-workload-agent created \(server dry run\)/);
  });

  it('the RBAC is accepted for real, and grants exactly the verbs the processes need', async () => {
    // Real apply (not dry-run) of the RBAC, then ask the authorizer as each service account.
    const rbac = await cluster.kubectlOk(['kustomize', path.join(repoRoot, 'config', 'rbac')]);
    await cluster.kubectlOk(['apply', '-n', NS, '-f', '-'], { input: rbac.replaceAll('namespace: system', `namespace: ${NS}`) });
    const can = async (sa: string, verb: string, resource: string, ns?: string): Promise<boolean> => {
      const [res, sub] = resource.split('/');
      const r = await cluster.kubectl(['auth', 'can-i', verb, res!, ...(sub ? [`--subresource=${sub}`] : []), `--as=system:serviceaccount:${NS}:${sa}`, ...(ns ? ['-n', ns] : ['--all-namespaces'])]);
      return r.stdout.trim() === 'yes';
    };
    const ctl = 'systemd-workload-controller';
    const agent = 'systemd-workload-agent';
    expect(await can(ctl, 'watch', 'systemdworkloads.systemd.operators.dev')).toBe(true);
    expect(await can(ctl, 'patch', 'systemdworkloads.systemd.operators.dev/status')).toBe(true);
    expect(await can(ctl, 'update', 'systemdworkloads.systemd.operators.dev')).toBe(false);
    expect(await can(ctl, 'delete', 'systemdunitsets.systemd.operators.dev')).toBe(true);
    expect(await can(ctl, 'update', 'leases.coordination.k8s.io', NS)).toBe(true);
    expect(await can(ctl, 'update', 'leases.coordination.k8s.io', 'default')).toBe(false);
    expect(await can(ctl, 'get', 'secrets', NS)).toBe(false);
    expect(await can(ctl, 'watch', 'systemdworkloadpolicies.systemd.operators.dev')).toBe(true);
    expect(await can(ctl, 'list', 'systemdworkloadpolicies.systemd.operators.dev')).toBe(true);
    expect(await can(ctl, 'update', 'systemdworkloadpolicies.systemd.operators.dev')).toBe(false);
    expect(await can(agent, 'get', 'systemdworkloadpolicies.systemd.operators.dev')).toBe(false);
    expect(await can(agent, 'watch', 'systemdunitsets.systemd.operators.dev')).toBe(true);
    expect(await can(agent, 'patch', 'systemdunitsets.systemd.operators.dev/status')).toBe(true);
    expect(await can(agent, 'patch', 'systemdunitsets.systemd.operators.dev')).toBe(false);
    expect(await can(agent, 'create', 'tokenreviews.authentication.k8s.io')).toBe(true);
    expect(await can(agent, 'create', 'subjectaccessreviews.authorization.k8s.io')).toBe(true);
    expect(await can(agent, 'create', 'leases.coordination.k8s.io', NS)).toBe(true);
    expect(await can(agent, 'list', 'leases.coordination.k8s.io', NS)).toBe(false);
    expect(await can(agent, 'get', 'systemdworkloads.systemd.operators.dev')).toBe(false);
  });

  it('the Helm chart (rendered without helm) yields the same key objects and passes a server dry run', async () => {
    const chartDir = path.join(repoRoot, 'deploy', 'helm', 'systemd-workload-operator');
    const helm = renderChart(chartDir, NS);
    const fromKustomize = new Map((loadAllYaml(kustomized) as Obj[]).map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    const fromHelm = new Map((helm.objects as Obj[]).map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    // Helm installs CRDs from the chart's crds/ and leaves the namespace to --create-namespace.
    const expected = [...fromKustomize.keys()].filter((k) => !k.startsWith('CustomResourceDefinition/') && !k.startsWith('Namespace/')).sort();
    expect([...fromHelm.keys()].sort()).toEqual(expected);
    const strip = (o: Obj): unknown => {
      const { metadata, ...rest } = o;
      // kustomize stamps its namespace even on admission policies, which are cluster-scoped (the server ignores it).
      const clusterScoped = o.kind.startsWith('ValidatingAdmissionPolicy');
      return { ...rest, metadata: { name: metadata.name, namespace: clusterScoped ? undefined : metadata.namespace } };
    };
    for (const key of expected) expect({ key, obj: strip(fromHelm.get(key)!) }).toEqual({ key, obj: strip(fromKustomize.get(key)!) });
    const crdFiles = await fs.readdir(path.join(chartDir, 'crds'));
    expect(crdFiles.sort()).toEqual(['systemdunitsets.yaml', 'systemdworkloadpolicies.yaml', 'systemdworkloads.yaml']);
    const out = await cluster.kubectlOk(['apply', '--dry-run=server', '-f', '-'], { input: helm.text });
    expect(out).toMatch(/daemonset\.apps\/systemd-workload-agent (created|configured|unchanged) \(server dry run\)/);
  });
});
