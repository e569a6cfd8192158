// Back-off for ever (issue 14): a unit whose dependency (a file) is missing for
// a minute crash-loops past systemd's StartLimitBurst, reads Degraded with its
// back-off and last exit, and heals by itself once the file appears. Real
// controller, real agents, two real systemd nodes, kubectl as the client.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SystemdWorkload, UnitStatus } from '../../../src/api/types.js';
import type { Cluster } from '../../harness/cluster.js';
import { startOperatorCluster, type OperatorCluster } from '../../harness/operatorCluster.js';
import { apply, waitForWorkload } from '../../harness/assertions.js';
import { getChild } from '../../harness/agentHelpers.js';
import { waitFor } from '../../harness/process.js';

const NODES = ['bo-1', 'bo-2'];
/**
 * The scenario: the dependency is missing for at least this long. Enough for 3 back-off starts
 * with room to spare: with RestartSec=1s systemd starts the unit 5 times (StartLimitBurst) over
 * about 4 s, then the agent starts it again after 2, 4 and 8 s (min(8, 1 x 2^n)), each start
 * followed by systemd's 5: the third at about 26 s, the fifth at about 50 s (a cycle is then
 * 4 + 8 s). The wait below ends once both nodes show 3 or more.
 */
const OUTAGE_MS = 60_000;
/** restart.maxDelaySeconds of the workload: from the agent's third start on, the doubling is capped there. */
const MAX_DELAY_S = 8;

/** The agent's back-off delay a unit's status shows: its next start after its last exit. */
const backOffDelayMs = (u: UnitStatus | undefined): number => Date.parse(u?.nextStartTime ?? '') - Date.parse(u?.lastExitTime ?? '');

describe('crash-loop back-off on real nodes', () => {
  let cluster: Cluster;
  let operator: OperatorCluster | undefined;

  beforeAll(async () => {
    operator = await startOperatorCluster({ nodes: NODES.map((name) => ({ name })) });
    cluster = operator.cluster;
  });

  afterAll(async () => {
    await operator?.stop();
  });

  it('keeps retrying past StartLimitBurst with a capped doubling delay, reads Degraded, and heals by itself', async () => {
    // Outside /tmp, /run, /var/tmp: both nodes see the host's directory here.
    const dir = path.join(cluster.dir, 'dependency');
    await fs.mkdir(dir, { recursive: true });
    const needed = path.join(dir, 'ready');
    const t0 = Date.now();
    await apply(
      cluster,
      JSON.stringify({
        apiVersion: 'systemd.operators.dev/v1alpha1',
        kind: 'SystemdWorkload',
        metadata: { name: 'flaky', namespace: 'default' },
        spec: {
          units: [
            {
              name: 'app',
              command: ['/bin/sh', '-c', `test -f ${needed} || exit 3; exec sleep infinity`],
              restart: { policy: 'Always', delaySeconds: 1, maxDelaySeconds: MAX_DELAY_S },
            },
          ],
        },
      }),
    );

    // Failing: Degraded from the first failed restart, never Progressing or Failed.
    const backOffMessage = /^sdw-default_flaky_app\.service back-off, next start in \d+s \(\d+ restarts\); last exit: Error\(exit 3\)$/;
    const phases = new Set<string>();
    let lastRestarts = 0;
    let workloadSaidBackOff = false;
    const sample = async (): Promise<SystemdWorkload> => {
      const w = JSON.parse(await cluster.kubectlOk(['get', 'sdw', 'flaky', '-o', 'json'])) as SystemdWorkload;
      if ((w.status?.restarts ?? 0) > 0 && w.status?.phase) phases.add(w.status.phase);
      // Restarts are counted across the agent's starts: the count never goes back.
      expect(w.status?.restarts ?? 0).toBeGreaterThanOrEqual(lastRestarts);
      lastRestarts = w.status?.restarts ?? 0;
      // The unit alternates between the back-off and systemd's own restarts: remember the back-off was shown.
      if (w.status?.nodes?.some((n) => backOffMessage.test(n.message ?? ''))) workloadSaidBackOff = true;
      return w;
    };
    // The units as they were at one moment when both were in the agent's back-off
    // (read again later, a unit may be in systemd's own restarts).
    const inBackOff = await waitFor(
      'both nodes in the agent back-off, past StartLimitBurst, 3 back-off starts or more, for a minute',
      async () => {
        await sample();
        if (Date.now() - t0 < OUTAGE_MS) return false;
        const units = await Promise.all(NODES.map(async (n) => (await getChild(cluster, 'flaky', n))?.status?.units?.[0]));
        // The back-off's next start comes from the sync the failure asks for, a moment after the
        // failure's own status: wait for both, or the read may fall between them.
        return units.every(
          (u) =>
            u && (u.backOffAttempts ?? 0) >= 3 && u.activeState === 'failed' && !!u.nextStartTime && backOffMessage.test(u.message ?? ''),
        )
          ? units
          : false;
      },
      OUTAGE_MS + 180_000,
      1000,
    );
    // What a user sees while it fails: Degraded, and per unit the back-off with the last exit.
    const table = await cluster.kubectlOk(['get', 'sdw', 'flaky']);
    expect(table).toMatch(/^flaky\s+2\s+0\s+\d+\s+\d+\s+Degraded/m);
    for (const u of inBackOff) {
      expect(u).toMatchObject({ reason: 'CrashLoopBackOff', activeState: 'failed', lastTermination: { code: 'exited', status: 3 } });
      expect(u?.message).toMatch(backOffMessage);
      expect(u?.nextStartTime).toEqual(expect.any(String));
      // The delay is capped: after 3 starts it would have doubled to 16 s; it is 8 s after the last exit
      // (nextStartTime is whole seconds, so just over 7 s to 8 s).
      const delayMs = backOffDelayMs(u);
      expect(delayMs).toBeGreaterThan((MAX_DELAY_S - 1) * 1000);
      expect(delayMs).toBeLessThanOrEqual(MAX_DELAY_S * 1000);
      // systemd's 5 restarts plus the agent's starts (each followed by systemd's own again).
      expect(u?.restarts ?? 0).toBeGreaterThan(5 + (u?.backOffAttempts ?? 0));
    }
    const wl = await sample();
    expect(workloadSaidBackOff).toBe(true);
    expect([...phases]).toEqual(['Degraded']);
    const failingRestarts = wl.status?.restarts ?? 0;

    // The dependency appears: no human action, the next back-off start succeeds.
    await fs.writeFile(needed, 'ok\n');
    const healed = await waitForWorkload(
      cluster,
      'flaky',
      'Running on both nodes',
      (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2,
      180_000,
    );
    expect(healed.status?.restarts ?? 0).toBeGreaterThanOrEqual(failingRestarts);
    expect(await cluster.kubectlOk(['get', 'sdw', 'flaky'])).toMatch(/^flaky\s+2\s+2\s+2\s+\d+\s+Running/m);
    for (const n of NODES) {
      const u = (await getChild(cluster, 'flaky', n))?.status?.units?.[0];
      expect(u).toMatchObject({ activeState: 'active', subState: 'running' });
      expect(u?.reason).toBeUndefined();
    }
  }, 900_000);
});
