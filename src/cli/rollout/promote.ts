// `kubectl sdw rollout promote NAME`: ends a canary hold by setting
// rollingUpdate.partition to 0, so the nodes the partition kept on the old
// version are updated too, at the rollout's pace (maxUnavailable, nodeOrder).
import { nameSpec, objectName, target, TARGET_HELP, type RolloutSubcommand } from './subcommand.js';

export const promote: RolloutSubcommand = {
  summary: 'end a canary hold: the nodes the partition keeps follow (partition: 0)',
  spec: nameSpec(),
  help: `Promote a SystemdWorkload held at its partition: set
spec.updateStrategy.rollingUpdate.partition to 0, so the nodes kept on the old
version are updated too, maxUnavailable at a time and in nodeOrder.

Usage:
  kubectl sdw rollout promote NAME [-n NAMESPACE]

Examples:
  kubectl sdw rollout promote web          # the canary looks good: update the rest

Flags:
${TARGET_HELP}
`,
  run: async (p, io) => {
    const t = target(p);
    const wl = await t.client.getWorkload(t.namespace, t.name);
    const partition = wl.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    if (partition === 0) {
      io.out(`${objectName(t.name)} has no partition: nothing to promote\n`);
      return 0;
    }
    await t.client.patchWorkload(t.namespace, t.name, { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
    io.out(`${objectName(t.name)} promoted (partition ${partition} -> 0)\n`);
    return 0;
  },
};
