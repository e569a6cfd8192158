// The deploy manifests cannot rot: config/default (kustomize) and the Helm chart
// are built and sent to a real API server with a server-side dry run (schema,
// defaulting, admission, RBAC object validation), and a real `helm install`,
// upgrade and uninstall of the chart runs against an API server of its own.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadAllYaml } from '@kubernetes/client-node';
import { Cluster } from '../../harness/cluster.js';
import { binaries, repoRoot } from '../../harness/binaries.js';
import { CHART_DIR, helmOk } from '../../harness/helm.js';

const execFileP = promisify(execFile);
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
    expect(ids).toEqual(
      [
        // The logs API (aggregated: kubectl sdw logs through the API server).
        'APIService/v1alpha1.subresources.systemd.operators.dev',
        'ClusterRole/systemd-workload-agent',
        'ClusterRole/systemd-workload-controller',
        'ClusterRole/systemd-workload-editor',
        'ClusterRole/systemd-workload-logs-api',
        // Who may scrape /metrics (served with authentication and authorization).
        'ClusterRole/systemd-workload-metrics-reader',
        'ClusterRole/systemd-workload-viewer',
        'ClusterRoleBinding/systemd-workload-agent',
        'ClusterRoleBinding/systemd-workload-controller',
        'ClusterRoleBinding/systemd-workload-logs-api',
        'CustomResourceDefinition/systemdunitsets.systemd.operators.dev',
        'CustomResourceDefinition/systemdworkloadpolicies.systemd.operators.dev',
        'CustomResourceDefinition/systemdworkloads.systemd.operators.dev',
        'DaemonSet/systemd-workload-agent',
        'Deployment/systemd-workload-controller',
        `Namespace/${NS}`,
        'Role/systemd-workload-agent-leases',
        'Role/systemd-workload-controller-leases',
        'RoleBinding/systemd-workload-agent-leases',
        'RoleBinding/systemd-workload-controller-leases',
        'Service/systemd-workload-agent-metrics',
        'Service/systemd-workload-controller-metrics',
        'Service/systemd-workload-logs-api',
        'ServiceAccount/systemd-workload-agent',
        'ServiceAccount/systemd-workload-controller',
        'ValidatingAdmissionPolicy/systemd-workload-agent-node-identity',
        'ValidatingAdmissionPolicyBinding/systemd-workload-agent-node-identity',
        'ValidatingAdmissionPolicy/systemd-workload-default-file-paths',
        'ValidatingAdmissionPolicyBinding/systemd-workload-default-file-paths',
        'ValidatingAdmissionPolicy/systemd-workload-default-no-root',
        'ValidatingAdmissionPolicyBinding/systemd-workload-default-no-root',
        'ValidatingAdmissionPolicy/systemd-workload-policy',
        'ValidatingAdmissionPolicyBinding/systemd-workload-policy',
      ].sort(),
    );
    const namespaced = objs.filter(
      (o) =>
        ![
          'Namespace',
          'APIService',
          'CustomResourceDefinition',
          'ClusterRole',
          'ClusterRoleBinding',
          'ValidatingAdmissionPolicy',
          'ValidatingAdmissionPolicyBinding',
        ].includes(o.kind),
    );
    expect(namespaced.every((o) => o.metadata.namespace === NS)).toBe(true);
    const bindings = objs.filter((o) => o.kind.endsWith('Binding') && 'subjects' in o) as unknown as Array<{
      subjects: Array<{ namespace: string }>;
    }>;
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
      const r = await cluster.kubectl([
        'auth',
        'can-i',
        verb,
        res!,
        ...(sub ? [`--subresource=${sub}`] : []),
        `--as=system:serviceaccount:${NS}:${sa}`,
        ...(ns ? ['-n', ns] : ['--all-namespaces']),
      ]);
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
    // The controller reads Secrets to seal their values for each node (spec.files,
    // env valueFrom); it never writes them. Agents cannot read Secrets at all.
    expect(await can(ctl, 'watch', 'secrets')).toBe(true);
    expect(await can(ctl, 'update', 'secrets', NS)).toBe(false);
    expect(await can(agent, 'get', 'secrets', NS)).toBe(false);
    expect(await can(agent, 'list', 'secrets')).toBe(false);
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

  it('the Helm chart, rendered by helm, passes a server dry run (test/integration/deploy/chart.test.ts compares it with config/)', async () => {
    const rendered = await helmOk(['template', 'sdw', CHART_DIR, '--namespace', NS]);
    const out = await cluster.kubectlOk(['apply', '--dry-run=server', '-f', '-'], { input: rendered });
    expect(out).toMatch(/daemonset\.apps\/systemd-workload-agent (created|configured|unchanged) \(server dry run\)/);
    expect(out).toMatch(
      /validatingadmissionpolicy\.admissionregistration\.k8s\.io\/systemd-workload-policy (created|configured|unchanged) \(server dry run\)/,
    );
  });
  it('make install, make deploy IMG=..., make undeploy and make uninstall, as an operator user runs them', async () => {
    const make = async (target: string, ...vars: string[]): Promise<string> => {
      const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: cluster.kubeconfigPath };
      const { stdout } = await execFileP('make', ['-s', target, `KUBECTL=${binaries().kubectl}`, ...vars], {
        cwd: repoRoot,
        env,
        timeout: 300_000,
      });
      return stdout;
    };
    await make('install');
    await cluster.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd/systemdworkloads.systemd.operators.dev']);
    await make('deploy', 'IMG=registry.example/sdw:e2e');
    const images = await cluster.kubectlOk([
      'get',
      'deployment/systemd-workload-controller',
      'daemonset/systemd-workload-agent',
      '-n',
      NS,
      '-o',
      'jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}{"\\n"}{end}',
    ]);
    expect(images.trim().split('\n')).toEqual(['registry.example/sdw:e2e', 'registry.example/sdw:e2e']);
    await make('undeploy');
    expect((await cluster.kubectl(['get', 'namespace', NS])).stderr).toMatch(/NotFound/);
    expect((await cluster.kubectl(['get', 'crd', 'systemdworkloads.systemd.operators.dev'])).stderr).toMatch(/NotFound/);
    expect((await cluster.kubectl(['get', 'clusterrole', 'systemd-workload-agent'])).stderr).toMatch(/NotFound/);
    await make('uninstall'); // nothing left to remove: not an error
  });
});

describe('helm install, upgrade and uninstall of the chart', () => {
  let cluster: Cluster;
  const kube = (): { kubeconfig: string } => ({ kubeconfig: cluster.kubeconfigPath });

  beforeAll(async () => {
    // No CRDs up front: helm installs them from the chart's crds/.
    cluster = await Cluster.start({ nodes: [], controllers: ['namespace'], crds: false });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('installs the CRDs and every object into a new namespace, and records the release', async () => {
    await helmOk(['install', 'sdw', CHART_DIR, '--namespace', NS, '--create-namespace'], kube());
    const crds = await cluster.kubectlOk(['get', 'crd', '-o', 'name']);
    expect(
      crds
        .split('\n')
        .filter((l) => l.includes('systemd.operators.dev'))
        .sort(),
    ).toEqual([
      'customresourcedefinition.apiextensions.k8s.io/systemdunitsets.systemd.operators.dev',
      'customresourcedefinition.apiextensions.k8s.io/systemdworkloadpolicies.systemd.operators.dev',
      'customresourcedefinition.apiextensions.k8s.io/systemdworkloads.systemd.operators.dev',
    ]);
    const objs = await cluster.kubectlOk([
      'get',
      'deployment,daemonset,serviceaccount,service',
      '-n',
      NS,
      '-l',
      'app.kubernetes.io/instance=sdw',
      '-o',
      'name',
    ]);
    expect(objs.trim().split('\n').sort()).toEqual([
      'daemonset.apps/systemd-workload-agent',
      'deployment.apps/systemd-workload-controller',
      'service/systemd-workload-agent-metrics',
      'service/systemd-workload-controller-metrics',
      'service/systemd-workload-logs-api',
      'serviceaccount/systemd-workload-agent',
      'serviceaccount/systemd-workload-controller',
    ]);
    const vaps = await cluster.kubectlOk(['get', 'validatingadmissionpolicies', '-l', 'app.kubernetes.io/managed-by=Helm', '-o', 'name']);
    expect(vaps.trim().split('\n').sort()).toEqual([
      'validatingadmissionpolicy.admissionregistration.k8s.io/systemd-workload-agent-node-identity',
      'validatingadmissionpolicy.admissionregistration.k8s.io/systemd-workload-default-file-paths',
      'validatingadmissionpolicy.admissionregistration.k8s.io/systemd-workload-default-no-root',
      'validatingadmissionpolicy.admissionregistration.k8s.io/systemd-workload-policy',
    ]);
    const status = JSON.parse(await helmOk(['status', 'sdw', '--namespace', NS, '-o', 'json'], kube())) as { info: { status: string } };
    expect(status.info.status).toBe('deployed');
  });

  it("an upgrade with another image changes both programs' image", async () => {
    await helmOk(
      [
        'upgrade',
        'sdw',
        CHART_DIR,
        '--namespace',
        NS,
        '--reuse-values',
        '--set',
        'image.repository=registry.example/sdw',
        '--set',
        'image.tag=dev',
      ],
      kube(),
    );
    const images = await cluster.kubectlOk([
      'get',
      'deployment/systemd-workload-controller',
      'daemonset/systemd-workload-agent',
      '-n',
      NS,
      '-o',
      'jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}{"\\n"}{end}',
    ]);
    expect(images.trim().split('\n')).toEqual(['registry.example/sdw:dev', 'registry.example/sdw:dev']);
  });

  it("uninstall removes every object it made and keeps the CRDs (and so the users' workloads), as Helm does", async () => {
    await helmOk(['uninstall', 'sdw', '--namespace', NS, '--wait'], kube());
    const left = await cluster.kubectlOk([
      'get',
      'deployment,daemonset,serviceaccount,role,rolebinding',
      '-n',
      NS,
      '-l',
      'app.kubernetes.io/instance=sdw',
      '-o',
      'name',
    ]);
    expect(left.trim()).toBe('');
    const cluster1 = await cluster.kubectlOk([
      'get',
      'clusterroles,clusterrolebindings,validatingadmissionpolicies,validatingadmissionpolicybindings',
      '-l',
      'app.kubernetes.io/instance=sdw',
      '-o',
      'name',
    ]);
    expect(cluster1.trim()).toBe('');
    expect(await cluster.kubectlOk(['get', 'crd', 'systemdworkloads.systemd.operators.dev', '-o', 'name'])).toMatch(/systemdworkloads/);
  });
});
