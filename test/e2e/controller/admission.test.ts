// What the API server refuses (the CRD's OpenAPI schema and CEL rules), as a
// user meets it: `kubectl apply` fails and says which field is wrong. And what
// the controller refuses on its own when something passes admission.
import { Cluster } from '../../harness/cluster.js';
import { delay, waitFor } from '../../harness/process.js';
import { startController, type OperatorProcess } from '../../harness/operator.js';
import { eventsFor, waitForWorkload } from '../../harness/assertions.js';

type Unit = Record<string, unknown>;
const unit = (x: Unit = {}): Unit => ({ name: 'main', command: ['/bin/sleep', 'infinity'], ...x });

function manifest(name: string, spec: Record<string, unknown>): string {
  // JSON is YAML: exact control over every value (a newline inside an argument, a number vs a string).
  return JSON.stringify({ apiVersion: 'systemd.operators.dev/v1alpha1', kind: 'SystemdWorkload', metadata: { name, namespace: 'default' }, spec });
}

const cases: Array<[string, Record<string, unknown>, RegExp]> = [
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
  ['missing command', { units: [{ name: 'main' }] }, /spec\.units\[0\]\.command.*Required/],
  ['Exists toleration with a value', { units: [unit()], tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] }, /spec\.tolerations\[0\]\.value/],
  ['negative minReadySeconds', { units: [unit()], minReadySeconds: -5 }, /spec\.minReadySeconds/],
  ['relative readWritePaths entry', { units: [unit({ sandbox: { readWritePaths: ['data'] } })] }, /spec\.units\[0\]\.sandbox\.readWritePaths\[0\]/],
];

describe('admission: invalid workloads are refused with the field named', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: [{ name: 'adm-1', labels: { role: 'adm' }, systemd: false }] });
    controller = await startController(cluster);
  });

  afterAll(async () => {
    await controller?.stop();
    await cluster?.stop();
  });

  it('accepts the valid base workload (the cases below differ from it in one field)', async () => {
    const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifest('base', { units: [unit()] }) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it.each(cases)('refuses: %s', async (_name, spec, field) => {
    const r = await cluster.kubectl(['apply', '-f', '-'], { input: manifest('bad', spec) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is invalid/);
    expect(r.stderr).toMatch(field);
    // nothing was stored
    expect((await cluster.kubectl(['get', 'sdw', 'bad'])).code).not.toBe(0);
  });

  it('refuses a workload name longer than 63 characters', async () => {
    const r = await cluster.kubectl(['apply', '-f', '-'], { input: manifest('x'.repeat(64), { units: [unit()] }) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/metadata\.name/);
  });

  it('the controller refuses what admission cannot see (an ordering cycle of three): Failed, InvalidSpec, a Warning event, no child', async () => {
    const spec = {
      nodeSelector: { role: 'adm' },
      units: [unit({ name: 'a', after: ['c'] }), unit({ name: 'b', after: ['a'] }), unit({ name: 'c', after: ['b'] })],
    };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('cycle', spec) });
    const wl = await waitForWorkload(cluster, 'cycle', 'Failed', (w) => w.status?.phase === 'Failed', 60_000);
    const progressing = wl.status!.conditions!.find((c) => c.type === 'Progressing')!;
    expect(progressing).toMatchObject({ status: 'False', reason: 'InvalidSpec', observedGeneration: wl.metadata.generation });
    expect(progressing.message).toMatch(/spec\.units\[\d\]\.after: ordering cycle: (a|b|c) -> .* -> \1/);
    expect(wl.status!.conditions!.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    await waitFor('InvalidSpec event', async () => (await eventsFor(cluster, 'SystemdWorkload', 'cycle')).find((e) => e.reason === 'InvalidSpec'), 30_000)
      .then((e) => {
        expect(e.type).toBe('Warning');
        expect(e.message).toMatch(/ordering cycle/);
      });
    await delay(3000);
    expect((await cluster.kubectlOk(['get', 'systemdunitsets', '-n', 'default', '-o', 'name'])).trim()).toBe('');
    // Fixing the spec recovers: a child appears, the phase leaves Failed.
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest('cycle', { ...spec, units: [unit({ name: 'a' }), unit({ name: 'b', after: ['a'] }), unit({ name: 'c', after: ['b'] })] }) });
    await waitForWorkload(cluster, 'cycle', 'valid again', (w) => w.status?.phase !== 'Failed' && w.status?.currentNodes === 1, 60_000);
    const events = await eventsFor(cluster, 'SystemdWorkload', 'cycle');
    expect(events.filter((e) => e.reason === 'InvalidSpec')).toHaveLength(1);
  });
});
