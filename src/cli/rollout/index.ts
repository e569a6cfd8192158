// `kubectl sdw rollout SUBCOMMAND NAME`: the dispatcher. One file per
// subcommand in this folder; adding one is a new file and one line in
// SUBCOMMANDS (history and undo slot in the same way).
import type { IO } from '../io.js';
import { runCommand } from '../runCommand.js';
import { history, undo } from './history.js';
import { pause } from './pause.js';
import { promote } from './promote.js';
import { restart } from './restart.js';
import { resume } from './resume.js';
import { status } from './status.js';
import type { RolloutSubcommand } from './subcommand.js';

export const ROLLOUT_COMMAND = 'rollout';

export const SUBCOMMANDS: Record<string, RolloutSubcommand> = { status, history, undo, pause, resume, restart, promote };

export function rolloutHelp(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((n) => n.length));
  const lines = Object.entries(SUBCOMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`);
  return `Manage the rollout of a SystemdWorkload.

Usage:
  kubectl sdw rollout SUBCOMMAND NAME [flags]

Examples:
  kubectl sdw rollout status web            # wait until every node runs the new units

Subcommands:
${lines.join('\n')}

Run "kubectl sdw rollout SUBCOMMAND --help" for a subcommand's flags.
`;
}

export async function runRollout(argv: readonly string[], io: IO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    io.out(rolloutHelp());
    return sub === undefined ? 2 : 0;
  }
  const command = SUBCOMMANDS[sub];
  if (!command) {
    io.err(`error: unknown rollout subcommand "${sub}"\n\n${rolloutHelp()}`);
    return 2;
  }
  return runCommand(`${ROLLOUT_COMMAND} ${sub}`, rest, command, command.run, io);
}
