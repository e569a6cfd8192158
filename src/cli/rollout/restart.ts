// `kubectl sdw rollout restart NAME`: restarts every unit, node by node under
// the rollout's maxUnavailable (and nodeOrder), with no spec change. As
// `kubectl rollout restart` stamps kubectl.kubernetes.io/restartedAt on a pod
// template, this stamps the workload's systemd.operators.dev/restartedAt; the
// controller renders the stamp into every unit file, so the children's hash
// changes and the agents restart the units as any other rollout would.
import { ANNOTATION_RESTARTED_AT } from '../../api/types.js';
import { nameSpec, objectName, target, TARGET_HELP, type RolloutSubcommand } from './subcommand.js';

/** How long restart waits for the controller to start the rollout, so `rollout status` right after sees it. */
const OBSERVE_TIMEOUT_MS = 15_000;
const POLL_MS = 250;

export const restart: RolloutSubcommand = {
  summary: 'restart every unit, node by node under maxUnavailable, with no spec change',
  spec: nameSpec(),
  help: `Restart a SystemdWorkload's units on every node, as a rollout: maxUnavailable
nodes at a time (in nodeOrder), each batch after the last is ready. Sets the
annotation ${ANNOTATION_RESTARTED_AT} to the current time; the spec is not changed.
Waits (up to ${OBSERVE_TIMEOUT_MS / 1000} s) until the controller has started the rollout, so
"kubectl sdw rollout status NAME" right after follows it.

Usage:
  kubectl sdw rollout restart NAME [-n NAMESPACE]

Examples:
  kubectl sdw rollout restart web

Flags:
${TARGET_HELP}
`,
  run: async (p, io) => {
    const t = target(p);
    const before = (await t.client.getWorkload(t.namespace, t.name)).status?.hash;
    const now = (io.now ?? Date.now)();
    const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    await t.client.patchWorkload(t.namespace, t.name, { metadata: { annotations: { [ANNOTATION_RESTARTED_AT]: stamp } } });
    const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    // The stamp is metadata (no new generation): the status hash changing is how the controller's pass shows.
    for (let waited = 0; waited < OBSERVE_TIMEOUT_MS && !io.signal.aborted; waited += POLL_MS) {
      const hash = (await t.client.getWorkload(t.namespace, t.name)).status?.hash;
      if (hash !== undefined && hash !== before) {
        io.out(`${objectName(t.name)} restarted\n`);
        return 0;
      }
      await sleep(POLL_MS);
    }
    io.out(`${objectName(t.name)} restart requested (the controller has not started the rollout yet)\n`);
    return 0;
  },
};
