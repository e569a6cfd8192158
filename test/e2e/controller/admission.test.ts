// What the API server refuses (the CRD's OpenAPI schema and CEL rules), as a
// user meets it: `kubectl apply` fails and says which field is wrong. And what
// the controller refuses on its own when something passes admission.
import { Cluster } from '../../harness/cluster.js';
import { delay, waitFor } from '../../harness/process.js';
import { startController, type OperatorProcess } from '../../harness/operator.js';
import { eventsFor, waitForWorkload } from '../../harness/assertions.js';
import { ACCEPTED_SCHEDULES, SCHEMA_CASES, manifest, unit } from '../../cases/admission.js';

// The table is shared with test/e2e/security/bad-inputs.test.ts, which re-runs it against real nodes,
// and test/unit/api/admission-table.test.ts, which runs it through the offline validator.
const cases = SCHEMA_CASES;

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

  it.each(ACCEPTED_SCHEDULES)('accepts the CronJob schedule %j (time zone %j)', async (schedule, timeZone) => {
    const spec = { units: [unit({ type: 'oneshot', schedule, ...(timeZone ? { timeZone } : {}) })] };
    const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifest('sched', spec) });
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
    await waitFor(
      'InvalidSpec event',
      async () => (await eventsFor(cluster, 'SystemdWorkload', 'cycle')).find((e) => e.reason === 'InvalidSpec'),
      30_000,
    ).then((e) => {
      expect(e.type).toBe('Warning');
      expect(e.message).toMatch(/ordering cycle/);
    });
    await delay(3000);
    expect((await cluster.kubectlOk(['get', 'systemdunitsets', '-n', 'default', '-o', 'name'])).trim()).toBe('');
    // Fixing the spec recovers: a child appears, the phase leaves Failed.
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: manifest('cycle', {
        ...spec,
        units: [unit({ name: 'a' }), unit({ name: 'b', after: ['a'] }), unit({ name: 'c', after: ['b'] })],
      }),
    });
    await waitForWorkload(cluster, 'cycle', 'valid again', (w) => w.status?.phase !== 'Failed' && w.status?.currentNodes === 1, 60_000);
    const events = await eventsFor(cluster, 'SystemdWorkload', 'cycle');
    expect(events.filter((e) => e.reason === 'InvalidSpec')).toHaveLength(1);
  });
});
