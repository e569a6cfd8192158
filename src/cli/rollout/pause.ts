// `kubectl sdw rollout pause NAME`: spec.paused = true. The controller then
// updates no node (new nodes still get the units); what runs keeps running.
// resume.ts sets it back through the same switch.
import type { RolloutSubcommand } from './subcommand.js';
import { nameSpec, objectName, target, TARGET_HELP } from './subcommand.js';

/** Sets spec.paused, saying so; nothing is written when it already is as asked. */
export function setPaused(paused: boolean): RolloutSubcommand['run'] {
  return async (p, io) => {
    const t = target(p);
    const wl = await t.client.getWorkload(t.namespace, t.name);
    if ((wl.spec.paused === true) === paused) {
      io.out(`${objectName(t.name)} ${paused ? 'already paused' : 'is not paused'}\n`);
      return 0;
    }
    await t.client.patchWorkload(t.namespace, t.name, { spec: { paused } });
    io.out(`${objectName(t.name)} ${paused ? 'paused' : 'resumed'}\n`);
    return 0;
  };
}

export const pause: RolloutSubcommand = {
  summary: 'freeze the rollout where it is (spec.paused: true)',
  spec: nameSpec(),
  help: `Pause a SystemdWorkload's rollout: no node is updated until it is resumed
(nodes that start matching still get the units; what runs keeps running).

Usage:
  kubectl sdw rollout pause NAME [-n NAMESPACE]

Examples:
  kubectl sdw rollout pause web -n prod

Flags:
${TARGET_HELP}
`,
  run: setPaused(true),
};
