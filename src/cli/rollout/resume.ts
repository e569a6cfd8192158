// `kubectl sdw rollout resume NAME`: spec.paused = false; the rollout goes on
// from where it stopped.
import { setPaused } from './pause.js';
import { nameSpec, TARGET_HELP, type RolloutSubcommand } from './subcommand.js';

export const resume: RolloutSubcommand = {
  summary: 'go on with a paused rollout (spec.paused: false)',
  spec: nameSpec(),
  help: `Resume a paused SystemdWorkload's rollout.

Usage:
  kubectl sdw rollout resume NAME [-n NAMESPACE]

Examples:
  kubectl sdw rollout resume web -n prod

Flags:
${TARGET_HELP}
`,
  run: setPaused(false),
};
