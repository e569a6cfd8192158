// The two install paths cannot drift: the Helm chart, linted and rendered by
// real helm, carries the same RBAC and admission policies as config/ (built by
// kubectl kustomize), and the same Deployment, DaemonSet and Services apart
// from the labels Helm adds. Its values schema refuses what would not work.
import path from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { binaries, repoRoot } from '../../harness/binaries.js';
import { runKubectl } from '../../harness/controlPlane.js';
import { CHART_DIR, helmOk, runHelm } from '../../harness/helm.js';

const NS = 'systemd-workload-operator';
type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };
const key = (o: Obj): string => `${o.kind}/${o.metadata.name}`;
const CLUSTER_SCOPED = [
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'APIService',
];
const SECURITY_KINDS = [
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
];

function byKey(yaml: string): Map<string, Obj> {
  return new Map((loadAllYaml(yaml) as Obj[]).filter((o) => o && typeof o === 'object').map((o) => [key(o), o]));
}

/** The object without its own labels, and without the namespace kustomize stamps even on cluster-scoped kinds. */
function comparable(o: Obj): unknown {
  const { metadata, ...rest } = o;
  return { ...rest, metadata: { name: metadata.name, namespace: CLUSTER_SCOPED.includes(o.kind) ? undefined : metadata.namespace } };
}

/** The pod template's containers with their image left out (config/ pins one; the chart takes values). */
function withoutImages(o: Obj): unknown {
  const copy = JSON.parse(JSON.stringify(comparable(o))) as {
    spec?: { template?: { spec?: { containers?: Array<Record<string, unknown>> } } };
  };
  for (const c of copy.spec?.template?.spec?.containers ?? []) delete c.image;
  return copy;
}

describe('the Helm chart against config/', () => {
  let kustomized: Map<string, Obj>;
  let rendered: Map<string, Obj>;

  beforeAll(async () => {
    const k = await runKubectl(binaries().kubectl, '/dev/null', ['kustomize', path.join(repoRoot, 'config', 'default')]);
    if (k.code !== 0) throw new Error(`kubectl kustomize config/default failed: ${k.stderr}`);
    kustomized = byKey(k.stdout);
    rendered = byKey(await helmOk(['template', 'sdw', CHART_DIR, '--namespace', NS]));
  });

  it('helm lint --strict finds nothing', async () => {
    const r = await runHelm(['lint', '--strict', CHART_DIR, '--namespace', NS]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining('1 chart(s) linted, 0 chart(s) failed'),
    });
  });

  it("renders every object of config/default except the CRDs (the chart's crds/) and the namespace (--create-namespace)", () => {
    const expected = [...kustomized.keys()].filter((k) => !k.startsWith('CustomResourceDefinition/') && !k.startsWith('Namespace/')).sort();
    expect([...rendered.keys()].sort()).toEqual(expected);
  });

  it("RBAC and admission policies are exactly config/'s", () => {
    const keys = [...kustomized.values()]
      .filter((o) => SECURITY_KINDS.includes(o.kind))
      .map(key)
      .sort();
    expect(keys.length).toBeGreaterThanOrEqual(17);
    for (const k of keys) expect({ k, obj: comparable(rendered.get(k)!) }).toEqual({ k, obj: comparable(kustomized.get(k)!) });
  });

  it("the Deployment, DaemonSet, Services and APIService are config/'s apart from the image, which defaults to the chart's appVersion", () => {
    for (const k of [
      'Deployment/systemd-workload-controller',
      'DaemonSet/systemd-workload-agent',
      'Service/systemd-workload-controller-metrics',
      'Service/systemd-workload-agent-metrics',
      'Service/systemd-workload-logs-api',
      'APIService/v1alpha1.subresources.systemd.operators.dev',
    ]) {
      expect({ k, obj: withoutImages(rendered.get(k)!) }).toEqual({ k, obj: withoutImages(kustomized.get(k)!) });
    }
    const images = (o: Obj | undefined): string[] =>
      (o as unknown as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }).spec.template.spec.containers.map(
        (c) => c.image,
      );
    expect(images(rendered.get('DaemonSet/systemd-workload-agent'))).toEqual(images(kustomized.get('DaemonSet/systemd-workload-agent')));
    expect(images(rendered.get('Deployment/systemd-workload-controller'))).toEqual(['ghcr.io/example/systemd-workload-operator:0.1.0']);
  });

  it("every label config/ puts on an object, the chart puts too, with Helm's own", () => {
    for (const [k, o] of rendered) {
      const labels = o.metadata.labels ?? {};
      expect({ k, labels }).toEqual({
        k,
        labels: expect.objectContaining({
          ...kustomized.get(k)!.metadata.labels,
          'app.kubernetes.io/managed-by': 'Helm',
          'app.kubernetes.io/instance': 'sdw',
          'helm.sh/chart': 'systemd-workload-operator-0.1.0',
        }),
      });
    }
  });

  it('values set the image, the replicas and the optional objects', async () => {
    const objs = byKey(
      await helmOk([
        'template',
        'sdw',
        CHART_DIR,
        '--namespace',
        'ops',
        '--set',
        'image.repository=registry.example/sdw',
        '--set',
        'image.tag=dev',
        '--set',
        'controller.replicas=3',
        '--set',
        'metrics.services=false',
        '--set',
        'userRoles=false',
      ]),
    );
    const ds = objs.get('DaemonSet/systemd-workload-agent') as unknown as {
      metadata: { namespace: string };
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    expect(ds.metadata.namespace).toBe('ops');
    expect(ds.spec.template.spec.containers[0]!.image).toBe('registry.example/sdw:dev');
    expect((objs.get('Deployment/systemd-workload-controller') as unknown as { spec: { replicas: number } }).spec.replicas).toBe(3);
    expect(
      [...objs.keys()].filter(
        // The logs API's Service is not optional: `kubectl sdw logs` goes through it.
        (k) =>
          (k.startsWith('Service/') && k !== 'Service/systemd-workload-logs-api') ||
          k.includes('systemd-workload-viewer') ||
          k.includes('systemd-workload-editor'),
      ),
    ).toEqual([]);
  });

  it('monitoring.enabled adds config/prometheus/monitor: the ServiceMonitors, the alert rules and the dashboard', async () => {
    const k = await runKubectl(binaries().kubectl, '/dev/null', ['kustomize', path.join(repoRoot, 'config', 'prometheus', 'monitor')]);
    if (k.code !== 0) throw new Error(`kubectl kustomize config/prometheus/monitor failed: ${k.stderr}`);
    const monitor = byKey(k.stdout);
    const objs = byKey(await helmOk(['template', 'sdw', CHART_DIR, '--namespace', NS, '--set', 'monitoring.enabled=true']));
    const added = [...objs.keys()].filter((k) => !rendered.has(k)).sort();
    expect(added).toEqual(
      [
        'ConfigMap/systemd-workload-operator-dashboard',
        'PrometheusRule/systemd-workload-operator',
        'ServiceMonitor/systemd-workload-agent',
        'ServiceMonitor/systemd-workload-controller',
      ].sort(),
    );
    expect(added).toEqual([...monitor.keys()].sort());
    for (const k of added) {
      expect({ k, obj: comparable(objs.get(k)!) }).toEqual({ k, obj: comparable(monitor.get(k)!) });
      expect({ k, labels: objs.get(k)!.metadata.labels }).toEqual({
        k,
        labels: expect.objectContaining({ ...monitor.get(k)!.metadata.labels, 'app.kubernetes.io/managed-by': 'Helm' }),
      });
    }
    const lint = await runHelm(['lint', '--strict', CHART_DIR, '--namespace', NS, '--set', 'monitoring.enabled=true']);
    expect({ code: lint.code, out: lint.stdout + lint.stderr }).toEqual({
      code: 0,
      out: expect.stringContaining('1 chart(s) linted, 0 chart(s) failed'),
    });
    // The ServiceMonitors select the metrics Services: without them, say so.
    const r = await runHelm(['template', 'sdw', CHART_DIR, '--set', 'monitoring.enabled=true', '--set', 'metrics.services=false']);
    expect({ code: r.code, err: r.stderr }).toEqual({ code: 1, err: expect.stringContaining('monitoring.enabled needs metrics.services') });
  });

  it('values.schema.json refuses bad values, naming the field', async () => {
    for (const [set, field] of [
      ['controller.replicas=0', 'replicas'],
      ['image.pullPolicy=Sometimes', 'pullPolicy'],
      ['agent.unitDir=etc/systemd/system', 'unitDir'],
      ['agent.probePort=70000', 'probePort'],
      ['controller.replica=2', 'replica'],
      ['agent.resources.limits.memory=lots', 'memory'],
    ] as const) {
      const r = await runHelm(['template', 'sdw', CHART_DIR, '--set', set]);
      expect({ set, code: r.code, err: r.stderr }).toEqual({
        set,
        code: 1,
        err: expect.stringMatching(new RegExp(`values don't meet the specifications of the schema[\\s\\S]*${field}`)),
      });
    }
  });
});
