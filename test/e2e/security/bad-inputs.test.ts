// Hostile inputs against the whole system: two real systemd nodes, the
// controller and an agent per node running, config/policy installed. Every bad
// workload is applied with kubectl and refused with a message naming its
// field; afterwards no node has a unit file of any of them and no
// SystemdUnitSet exists for them. A valid control workload shows that the same
// path does reach the nodes (so "no file" means refused, not "nothing runs").
import { promises as fs } from 'node:fs';
import { Cluster } from '../../harness/cluster.js';
import { delay, waitFor } from '../../harness/process.js';
import { startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { waitForWorkload } from '../../harness/assertions.js';
import { SCHEMA_CASES, SCHEMA_EXTRA_CASES } from '../../cases/admission.js';
import { createNamespace, installAdmissionPolicies, manifest, policyManifest, unit, waitForAdmission } from './helpers.js';

const NODES = ['bad-1', 'bad-2'];
const TENANT = 'tenant';
const ROOT_DEFAULT = (field: string, ns: string): RegExp =>
  new RegExp(`${field.replace(/[.[\]]/g, '\\$&')}: root is not allowed in namespace ${ns} \\(by default units may not run as root`);
const byPolicy = (field: string, rest: string): RegExp =>
  new RegExp(`${field.replace(/[.[\]]/g, '\\$&')}: ${rest}.* in namespace ${TENANT} \\(SystemdWorkloadPolicy tenant-policy`);

interface Case {
  name: string;
  ns: string;
  spec: Record<string, unknown>;
  expect: RegExp;
  /** Override the workload name (default bad-<index>). */
  workload?: string;
}

const tenantOk = (x: Record<string, unknown> = {}) =>
  unit({
    command: ['/usr/bin/sleep', 'infinity'],
    sandbox: { noNewPrivileges: true },
    resources: { limits: { memory: '64Mi' } },
    ...x,
  });

/** A tenant workload that keeps tenant-policy, but for what x changes. */
const tenant = (x: Record<string, unknown> = {}) => ({ units: [tenantOk(x)], nodeSelector: { role: 'worker' } });

const CASES: Case[] = [
  // The CRD schema and CEL rules (the same table as test/e2e/controller/admission.test.ts).
  ...SCHEMA_CASES.map(([name, spec, re]) => ({ name: `schema: ${name}`, ns: 'default', spec, expect: re })),
  ...SCHEMA_EXTRA_CASES.map(([name, spec, re, workload]) => ({ name, ns: 'default', spec, expect: re, ...(workload ? { workload } : {}) })),
  // The root default (no policy needed).
  {
    name: 'root default: no user, no dynamicUser',
    ns: 'default',
    spec: { units: [unit({ dynamicUser: undefined })] },
    expect: ROOT_DEFAULT('spec.units[0].user', 'default'),
  },
  {
    name: 'root default: user 0',
    ns: 'default',
    spec: { units: [unit({ dynamicUser: undefined, user: '0' })] },
    expect: ROOT_DEFAULT('spec.units[0].user', 'default'),
  },
  {
    name: 'root default: group root',
    ns: 'default',
    spec: { units: [unit({ group: 'root' })] },
    expect: ROOT_DEFAULT('spec.units[0].group', 'default'),
  },
  // A tenant's SystemdWorkloadPolicy.
  {
    name: 'policy: executable outside the allowed paths',
    ns: TENANT,
    spec: tenant({ command: ['/bin/sh', '-c', 'id'] }),
    expect: byPolicy('spec.units[0].command[0]', "'/bin/sh' is not an allowed executable"),
  },
  {
    name: 'policy: .. out of an allowed directory',
    ns: TENANT,
    spec: tenant({ command: ['/usr/bin/../../bin/sh'] }),
    expect: byPolicy('spec.units[0].command[0]', "'/usr/bin/../../bin/sh' is not an allowed executable"),
  },
  {
    name: 'policy: memory above the ceiling',
    ns: TENANT,
    spec: tenant({ resources: { limits: { memory: '2Gi' } } }),
    expect: byPolicy('spec.units[0].resources.limits.memory', '2Gi exceeds the maximum 128Mi'),
  },
  {
    name: 'policy: no memory limit',
    ns: TENANT,
    spec: tenant({ resources: {} }),
    expect: byPolicy('spec.units[0].resources.limits.memory', 'is required'),
  },
  {
    name: 'policy: noNewPrivileges missing',
    ns: TENANT,
    spec: tenant({ sandbox: {} }),
    expect: byPolicy('spec.units[0].sandbox.noNewPrivileges', 'must be true'),
  },
  {
    name: 'policy: user not allowed',
    ns: TENANT,
    spec: tenant({ dynamicUser: undefined, user: 'daemon' }),
    expect: byPolicy('spec.units[0].user', "user 'daemon' is not allowed"),
  },
  {
    name: 'policy: root even though the namespace label allows it',
    ns: TENANT,
    spec: tenant({ dynamicUser: undefined }),
    expect: byPolicy('spec.units[0].user', 'root is not allowed'),
  },
  {
    name: 'policy: nodeSelector not allowed',
    ns: TENANT,
    spec: { ...tenant(), nodeSelector: { role: 'control-plane' } },
    expect: byPolicy('spec.nodeSelector', 'must select nodes by an allowed label'),
  },
];

describe('bad inputs never reach a node', () => {
  let cluster: Cluster;
  const procs: OperatorProcess[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: NODES.map((name) => ({ name, labels: { role: 'worker' } })) });
    await installAdmissionPolicies(cluster);
    // tenant: root is allowed by the namespace label, but its policy says no.
    await createNamespace(cluster, TENANT, { 'systemd.operators.dev/allow-root': 'true' });
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: policyManifest('tenant-policy', {
        namespaces: [TENANT],
        allowedExecutables: ['/usr/bin/'],
        allowedUsers: ['nobody'],
        allowedNodeSelectors: [{ key: 'role', values: ['worker'] }],
        requiredSandbox: { noNewPrivileges: true },
        resources: { maxMemory: '128Mi' },
      }),
    });
    await waitForAdmission(cluster, manifest('probe', { units: [unit({ dynamicUser: undefined })] }));
    await waitForAdmission(cluster, manifest('probe', tenant({ sandbox: {} }), TENANT));
    procs.push(await startController(cluster));
    for (const n of NODES) procs.push(await startAgent(cluster, n));
  });

  afterAll(async () => {
    for (const p of procs) await p.stop().catch(() => undefined);
    await cluster?.stop();
  });

  it('has at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it('a valid workload (the control) reaches both nodes, in default and in the tenant namespace', async () => {
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('control', { units: [unit()] }) });
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('control', tenant(), TENANT) });
    await waitForWorkload(
      cluster,
      'control',
      'Running on both nodes',
      (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2,
      120_000,
    );
    await waitForWorkload(
      cluster,
      'control',
      'Running on both nodes',
      (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2,
      120_000,
      TENANT,
    );
    for (const n of NODES) {
      const files = await fs.readdir(cluster.node(n).unitDir);
      expect(files).toEqual(expect.arrayContaining(['sdw-default_control_main.service', `sdw-${TENANT}_control_main.service`]));
    }
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('refuses %s', async (_name, c, i) => {
    const name = c.workload ?? `bad-${i}`;
    const r = await cluster.kubectl(['apply', '-f', '-'], { input: manifest(name, c.spec, c.ns) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is invalid|denied request/);
    expect(r.stderr).toMatch(c.expect);
    expect((await cluster.kubectl(['get', 'sdw', name, '-n', c.ns])).code).not.toBe(0);
  });

  it('afterwards: no node has a unit file of any refused workload, and no SystemdUnitSet exists for one', async () => {
    // Give the controller and the agents time to act on anything that slipped through (they resync every 10 s).
    await delay(12_000);
    for (const n of NODES) {
      const files = await fs.readdir(cluster.node(n).unitDir);
      const ours = files.filter((f) => f.startsWith('sdw-'));
      expect(ours.filter((f) => !/^sdw-(default|tenant)_control_main\.service$/.test(f))).toEqual([]);
      expect(files.filter((f) => /bad-/.test(f))).toEqual([]);
    }
    const sets = await waitFor(
      'SystemdUnitSets listed',
      async () => {
        const r = await cluster.kubectl([
          'get',
          'systemdunitsets',
          '-A',
          '-o',
          'jsonpath={range .items[*]}{.metadata.labels.systemd\\.operators\\.dev/workload}{"\\n"}{end}',
        ]);
        return r.code === 0 ? r.stdout.trim().split('\n').filter(Boolean) : undefined;
      },
      30_000,
    );
    expect(sets.sort()).toEqual(['control', 'control', 'control', 'control']);
    const workloads = (await cluster.kubectlOk(['get', 'sdw', '-A', '-o', 'name'])).trim().split('\n').sort();
    expect(workloads).toEqual(['systemdworkload.systemd.operators.dev/control', 'systemdworkload.systemd.operators.dev/control']);
  });
});
