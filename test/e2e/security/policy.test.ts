// SystemdWorkloadPolicy, as a cluster admin and a tenant meet it on a real API
// server with config/policy installed by kubectl: per rule, a workload that
// keeps it is admitted and one that breaks it is refused with a message naming
// the field, the namespace and the policy; the root default holds with no
// policy at all; and the controller refuses on its own (defence in depth) when
// the admission binding is gone, leaving existing children as they are.
import type { SystemdUnitSet } from '../../../src/api/types.js';
import { Cluster } from '../../harness/cluster.js';
import { delay, waitFor } from '../../harness/process.js';
import { startController, type OperatorProcess } from '../../harness/operator.js';
import { eventsFor, waitForWorkload } from '../../harness/assertions.js';
import { listChildren } from '../../harness/controllerHelpers.js';
import { POLICY_RULES as RULES } from '../../cases/admission.js';
import { createNamespace, installAdmissionPolicies, manifest, policyManifest, unit, waitForAdmission, type Unit } from './helpers.js';

const ROOT_LABEL = { 'systemd.operators.dev/allow-root': 'true' };
const FILE_PATHS_LABEL = { 'systemd.operators.dev/allow-file-paths': 'true' };

const u = (x: Unit = {}) => ({ units: [unit(x)] });

describe('SystemdWorkloadPolicy at admission and in the controller', () => {
  let cluster: Cluster;
  let controller: OperatorProcess | undefined;

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: [{ name: 'pol-1', labels: { role: 'web' }, systemd: false }] });
    await installAdmissionPolicies(cluster);
    // The policies are active once the default refuses root in a namespace without the label.
    await waitForAdmission(cluster, manifest('probe', u({ dynamicUser: undefined })));
  });

  afterAll(async () => {
    await controller?.stop();
    await cluster?.stop();
  });

  describe('the default, with no SystemdWorkloadPolicy at all', () => {
    const msg = (field: string, ns: string): string =>
      `${field}: root is not allowed in namespace ${ns} (by default units may not run as root: set user or dynamicUser: true;` +
      ' a cluster admin allows root with the namespace label systemd.operators.dev/allow-root=true)';

    it.each([
      ['no user and no dynamicUser', u({ dynamicUser: undefined }), 'spec.units[0].user'],
      ['dynamicUser: false', u({ dynamicUser: false }), 'spec.units[0].user'],
      ['user root', u({ dynamicUser: undefined, user: 'root' }), 'spec.units[0].user'],
      ['user 0', u({ dynamicUser: undefined, user: '0' }), 'spec.units[0].user'],
      ['user 000', u({ dynamicUser: undefined, user: '000' }), 'spec.units[0].user'],
      ['group root', u({ dynamicUser: undefined, user: 'nobody', group: 'root' }), 'spec.units[0].group'],
      ['the second unit as root', { units: [unit({ name: 'a' }), unit({ name: 'b', dynamicUser: undefined })] }, 'spec.units[1].user'],
    ])('refuses root: %s', async (_name, spec, field) => {
      const r = await cluster.kubectl(['apply', '-f', '-'], { input: manifest('rooted', spec) });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("ValidatingAdmissionPolicy 'systemd-workload-default-no-root'");
      expect(r.stderr).toContain(msg(field, 'default'));
      expect((await cluster.kubectl(['get', 'sdw', 'rooted'])).code).not.toBe(0);
    });

    it('admits units with a user or dynamicUser', async () => {
      await cluster.kubectlOk(['apply', '-f', '-'], {
        input: manifest('plain', {
          units: [unit({ name: 'a' }), unit({ name: 'b', dynamicUser: undefined, user: 'nobody', group: 'nogroup' })],
        }),
      });
      await cluster.kubectlOk(['delete', 'sdw', 'plain']);
    });

    it('admits root in a namespace a cluster admin labelled allow-root=true, and only there', async () => {
      await createNamespace(cluster, 'rooty', ROOT_LABEL);
      await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('rooted', u({ dynamicUser: undefined }), 'rooty') });
      // Removing the label closes the namespace again for new or changed specs...
      await cluster.kubectlOk(['label', 'namespace', 'rooty', 'systemd.operators.dev/allow-root-']);
      const stderr = await waitForAdmission(cluster, manifest('rooted2', u({ dynamicUser: undefined }), 'rooty'));
      expect(stderr).toContain(msg('spec.units[0].user', 'rooty'));
      const changed = await cluster.kubectl(['apply', '-f', '-'], {
        input: manifest('rooted', u({ dynamicUser: undefined, command: ['/bin/sleep', '1000'] }), 'rooty'),
      });
      expect(changed.code).not.toBe(0);
      expect(changed.stderr).toContain(msg('spec.units[0].user', 'rooty'));
      // ... while the stored workload may still be labelled or deleted (its spec is not re-judged).
      await cluster.kubectlOk(['label', 'sdw', 'rooted', '-n', 'rooty', 'touched=yes']);
      await cluster.kubectlOk(['delete', 'sdw', 'rooted', '-n', 'rooty']);
    });
  });

  describe('files outside /etc/sdw: the namespace label, allowedFilePaths, and the directories never allowed', () => {
    const files = (...paths: string[]) => ({ units: [unit()], files: paths.map((path, i) => ({ name: `f${i}`, path, content: 'x\n' })) });

    it('refuses a path outside the workload directory in a namespace without the label, naming the field', async () => {
      await createNamespace(cluster, 'fp-none');
      const err = await waitForAdmission(cluster, manifest('app', files('/etc/sdw/fp-none/app/ok.conf', '/opt/app/app.conf'), 'fp-none'));
      expect(err).toContain("ValidatingAdmissionPolicy 'systemd-workload-default-file-paths'");
      expect(err).toContain(
        "spec.files[1].path: '/opt/app/app.conf' is outside /etc/sdw/fp-none/app/ in namespace fp-none (by default a workload's files lie in its own directory;" +
          ' a cluster admin allows other paths with the namespace label systemd.operators.dev/allow-file-paths=true',
      );
      expect((await cluster.kubectl(['get', 'sdw', 'app', '-n', 'fp-none'])).code).not.toBe(0);
      // Its own directory needs nothing.
      await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('app', files('/etc/sdw/fp-none/app/ok.conf'), 'fp-none') });
    });

    it("refuses another namespace's workload directory of the same name (the CRD cannot see the namespace)", async () => {
      await createNamespace(cluster, 'fp-other', FILE_PATHS_LABEL);
      const r = await cluster.kubectl(['apply', '-f', '-'], { input: manifest('app', files('/etc/sdw/fp-none/app/ok.conf'), 'fp-other') });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        "spec.files[0].path: '/etc/sdw/fp-none/app/ok.conf' is not in this workload's directory: a path under /etc/sdw must be under /etc/sdw/fp-other/app/",
      );
    });

    it('with the label: refused unless every policy covering the namespace lists a prefix; admitted when one does', async () => {
      await createNamespace(cluster, 'fp-pol', FILE_PATHS_LABEL);
      await cluster.kubectlOk(['apply', '-f', '-'], {
        input: policyManifest('fp-pol', { namespaces: ['fp-pol'], allowedFilePaths: ['/srv/data'] }),
      });
      const err = await waitForAdmission(cluster, manifest('app', files('/opt/app/app.conf'), 'fp-pol'));
      expect(err).toContain("ValidatingAdmissionPolicy 'systemd-workload-policy'");
      expect(err).toContain(
        "spec.files[0].path: '/opt/app/app.conf' is not under an allowed file path in namespace fp-pol (SystemdWorkloadPolicy fp-pol allows: /srv/data)",
      );
      await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('app', files('/srv/data/app/app.conf'), 'fp-pol') });
      // A second policy without the prefix closes it again: every covering policy must allow it.
      await cluster.kubectlOk(['apply', '-f', '-'], { input: policyManifest('fp-pol-2', { namespaces: ['fp-pol'] }) });
      const err2 = await waitForAdmission(cluster, manifest('app2', files('/srv/data/app2/app.conf'), 'fp-pol'));
      expect(err2).toContain(
        "spec.files[0].path: '/srv/data/app2/app.conf' is not under an allowed file path in namespace fp-pol (SystemdWorkloadPolicy fp-pol-2 allows: no path outside /etc/sdw)",
      );
      await cluster.kubectlOk(['delete', 'sdwp', 'fp-pol-2']);
    });

    it("refuses systemd's and the operator's own directories whatever the label and a policy allow", async () => {
      await createNamespace(cluster, 'fp-all', FILE_PATHS_LABEL);
      await cluster.kubectlOk(['apply', '-f', '-'], {
        input: policyManifest('fp-all', { namespaces: ['fp-all'], allowedFilePaths: ['/etc', '/run', '/var', '/opt'] }),
      });
      await waitForAdmission(cluster, manifest('probe', files('/etc/app/x'), 'fp-all'), false);
      for (const p of [
        '/etc/systemd/system/evil.service',
        '/run/systemd/system/x.service',
        '/var/lib/sdw/artifacts/x',
        '/var/lib/systemd-workload-agent/written-files.json',
      ]) {
        const r = await cluster.kubectl(['apply', '-f', '-'], { input: manifest('evil', files('/opt/ok', p), 'fp-all') });
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(
          /spec\.files\[1\]\.path: .*must not be under \/etc\/systemd, \/run\/systemd, \/usr, \/proc, \/sys, \/dev, \/var\/lib\/sdw, \/var\/lib\/systemd-workload-agent/,
        );
      }
      expect((await cluster.kubectl(['get', 'sdw', 'evil', '-n', 'fp-all'])).code).not.toBe(0);
    });

    it('with the label and no policy covering the namespace: the label alone is the opt-in (as allow-root)', async () => {
      await createNamespace(cluster, 'fp-open', FILE_PATHS_LABEL);
      await waitForAdmission(cluster, manifest('app', files('/opt/app/app.conf'), 'fp-open'), false);
      await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('app', files('/opt/app/app.conf'), 'fp-open') });
    });
  });

  describe.each(RULES.map((r, i) => [r.rule, r, i] as const))('policy rule: %s', (_rule, c, i) => {
    const ns = `rule-${i}`;
    const pol = `policy-${i}`;
    const text = (m: string): string =>
      m.replace('namespace NS', `namespace ${ns}`).replace('SystemdWorkloadPolicy P', `SystemdWorkloadPolicy ${pol}`);

    beforeAll(async () => {
      await createNamespace(cluster, ns, { ...(c.rootLabel ? ROOT_LABEL : {}), ...(c.filePathsLabel ? FILE_PATHS_LABEL : {}) });
      await cluster.kubectlOk(['apply', '-f', '-'], { input: policyManifest(pol, { namespaces: [ns], ...c.policy }) });
      // Wait for the policy to reach admission: its first refused case is refused (or, for a
      // policy that only allows, a workload the default alone would refuse is admitted).
      if (c.refused.length > 0) await waitForAdmission(cluster, manifest('probe', c.refused[0]![0], ns));
      else await delay(3000);
    });

    if (c.refused.length > 0)
      it.each(c.refused.map(([spec, m], j) => [j, spec, m] as const))(
        'refuses case %i with the field, namespace and policy named',
        async (j, spec, m) => {
          const r = await cluster.kubectl(['apply', '-f', '-'], { input: manifest(`bad-${j}`, spec, ns) });
          expect(r.code).not.toBe(0);
          expect(r.stderr).toContain("ValidatingAdmissionPolicy 'systemd-workload-policy'");
          expect(r.stderr).toContain(text(m));
          expect((await cluster.kubectl(['get', 'sdw', `bad-${j}`, '-n', ns])).code).not.toBe(0);
        },
      );

    it.each(c.allowed.map((spec, j) => [j, spec] as const))('admits allowed case %i', async (j, spec) => {
      const r = await cluster.kubectl(['apply', '-f', '-'], { input: manifest(`ok-${j}`, spec, ns) });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
  });

  it('a policy applies only to the namespaces it lists; every policy listing a namespace applies', async () => {
    await createNamespace(cluster, 'multi');
    await createNamespace(cluster, 'elsewhere');
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: policyManifest('multi-exec', { namespaces: ['multi', 'other'], allowedExecutables: ['/bin/'] }),
    });
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: policyManifest('multi-sandbox', { namespaces: ['multi'], requiredSandbox: { noNewPrivileges: true } }),
    });
    await waitForAdmission(cluster, manifest('probe', u({ command: ['/usr/bin/python3'], sandbox: { noNewPrivileges: true } }), 'multi'));
    const sbErr = await waitForAdmission(cluster, manifest('probe', u(), 'multi'));
    expect(sbErr).toContain('spec.units[0].sandbox.noNewPrivileges: must be true in namespace multi (SystemdWorkloadPolicy multi-sandbox)');
    const execErr = (
      await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], {
        input: manifest('probe', u({ command: ['/usr/bin/python3'], sandbox: { noNewPrivileges: true } }), 'multi'),
      })
    ).stderr;
    expect(execErr).toContain(
      "spec.units[0].command[0]: '/usr/bin/python3' is not an allowed executable in namespace multi (SystemdWorkloadPolicy multi-exec allows: /bin/)",
    );
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('both', u({ sandbox: { noNewPrivileges: true } }), 'multi') });
    // Neither policy lists "elsewhere".
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('free', u({ command: ['/usr/bin/python3'] }), 'elsewhere') });
  });

  it('an update that breaks a policy is refused; one that keeps the spec is not re-judged', async () => {
    await createNamespace(cluster, 'upd');
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('w', u({ resources: { limits: { memory: '64Mi' } } }), 'upd') });
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: policyManifest('upd-mem', { namespaces: ['upd'], resources: { maxMemory: '100Mi' } }),
    });
    const err = await waitForAdmission(cluster, manifest('w', u({ resources: { limits: { memory: '200Mi' } } }), 'upd'));
    expect(err).toContain(
      'spec.units[0].resources.limits.memory: 200Mi exceeds the maximum 100Mi in namespace upd (SystemdWorkloadPolicy upd-mem)',
    );
    // Tighten the policy below the stored workload: its labels can still change.
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: policyManifest('upd-mem', { namespaces: ['upd'], resources: { maxMemory: '32Mi' } }),
    });
    await waitForAdmission(cluster, manifest('w2', u({ resources: { limits: { memory: '64Mi' } } }), 'upd'));
    await cluster.kubectlOk(['label', 'sdw', 'w', '-n', 'upd', 'still=editable']);
  });

  it('the policy CRD refuses a malformed policy', async () => {
    const bad = await cluster.kubectl(['apply', '-f', '-'], {
      input: policyManifest('bad', { namespaces: ['x'], allowedExecutables: ['relative/'], resources: { maxMemory: 'lots' } }),
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/spec\.allowedExecutables\[0\]/);
    expect(bad.stderr).toMatch(/spec\.resources\.maxMemory: Invalid value.*must be a quantity greater than 0/);
    for (const p of ['relative/dir', '/opt/../etc', '/opt//app', '/']) {
      const r = await cluster.kubectl(['apply', '-f', '-'], { input: policyManifest('bad', { namespaces: ['x'], allowedFilePaths: [p] }) });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/spec\.allowedFilePaths\[0\]/);
    }
    const none = await cluster.kubectl(['apply', '-f', '-'], { input: policyManifest('bad', { namespaces: [] }) });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/spec\.namespaces/);
    expect((await cluster.kubectlOk(['get', 'sdwp', '-o', 'name'])).split('\n')).not.toContain(
      'systemdworkloadpolicy.systemd.operators.dev/bad',
    );
  });

  it('the controller refuses on its own: with the binding gone, a violating workload is Failed (PolicyViolation) and gets no child; existing children stay', async () => {
    controller = await startController(cluster);
    await createNamespace(cluster, 'ctl');
    const policy = { namespaces: ['ctl'], allowedExecutables: ['/bin/sleep'] };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: policyManifest('ctl-policy', policy) });
    // A compliant workload first: it gets its child.
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('good', u(), 'ctl') });
    await waitForWorkload(cluster, 'good', 'a child for pol-1', (w) => w.status?.currentNodes === 1, 60_000, 'ctl');
    const before = (await listChildren(cluster, 'ctl')).find((c) => c.metadata.labels?.['systemd.operators.dev/workload'] === 'good')!;

    // Remove the admission binding, as a careless upgrade might.
    await cluster.kubectlOk(['delete', 'validatingadmissionpolicybinding', 'systemd-workload-policy']);
    const violating = manifest('sneaky', u({ command: ['/bin/sh', '-c', 'id'] }), 'ctl');
    await waitForAdmission(cluster, violating, false);
    await cluster.kubectlOk(['apply', '-f', '-'], { input: violating });
    const message =
      "spec.units[0].command[0]: '/bin/sh' is not an allowed executable in namespace ctl (SystemdWorkloadPolicy ctl-policy allows: /bin/sleep)";
    const wl = await waitForWorkload(cluster, 'sneaky', 'Failed', (w) => w.status?.phase === 'Failed', 60_000, 'ctl');
    expect(wl.status!.conditions!.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'PolicyViolation',
      message,
    });
    expect(wl.status!.conditions!.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'PolicyViolation' });
    const ev = await waitFor(
      'PolicyViolation event',
      async () => (await eventsFor(cluster, 'SystemdWorkload', 'sneaky', 'ctl')).find((e) => e.reason === 'PolicyViolation'),
      30_000,
    );
    expect(ev).toMatchObject({ type: 'Warning', message });
    await delay(3000);
    expect((await listChildren(cluster, 'ctl')).filter((c) => c.metadata.labels?.['systemd.operators.dev/workload'] === 'sneaky')).toEqual(
      [],
    );

    // Tightening the policy under a running workload: the controller sees the
    // change (policy informer), fails it, and leaves its child exactly as it was.
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: policyManifest('ctl-policy', { ...policy, requiredSandbox: { privateTmp: true } }),
    });
    const failed = await waitForWorkload(
      cluster,
      'good',
      'Failed by the tightened policy',
      (w) => w.status?.phase === 'Failed',
      60_000,
      'ctl',
    );
    expect(failed.status!.conditions!.find((c) => c.type === 'Progressing')!.message).toBe(
      'spec.units[0].sandbox.privateTmp: must be true in namespace ctl (SystemdWorkloadPolicy ctl-policy)',
    );
    // An edit of the workload does not reach its child while it violates the policy.
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('good', u({ command: ['/bin/sleep', '1000'] }), 'ctl') });
    await waitForWorkload(cluster, 'good', 'new generation observed, still Failed', (w) => w.status?.phase === 'Failed', 60_000, 'ctl');
    await delay(3000);
    const after = (await listChildren(cluster, 'ctl')).find(
      (c) => c.metadata.labels?.['systemd.operators.dev/workload'] === 'good',
    ) as SystemdUnitSet;
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.spec).toEqual(before.spec);

    // Relaxing the policy frees both.
    await cluster.kubectlOk(['apply', '-f', '-'], { input: policyManifest('ctl-policy', { namespaces: ['ctl'] }) });
    await waitForWorkload(
      cluster,
      'sneaky',
      'a child once allowed',
      (w) => w.status?.phase !== 'Failed' && w.status?.currentNodes === 1,
      60_000,
      'ctl',
    );
    await waitFor(
      'the edit reaches the child',
      async () => {
        const c = (await listChildren(cluster, 'ctl')).find((x) => x.metadata.labels?.['systemd.operators.dev/workload'] === 'good');
        return c && c.spec.hash !== before.spec.hash ? c : undefined;
      },
      60_000,
    );

    // Put the binding back as shipped.
    await installAdmissionPolicies(cluster);
  });
});
