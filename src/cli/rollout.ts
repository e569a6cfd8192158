// The `kubectl sdw rollout SUBCOMMAND` group: each subcommand's flags, help and
// handler come from its own file (rolloutHistory.ts: history, undo), so the
// group grows by adding entries here.
import { UsageError, parseArgs, type CommandSpec, type ParsedArgs } from './args.js';
import type { IO } from './commands.js';
import { HISTORY_COMMANDS, history, undo } from './rolloutHistory.js';

interface Subcommand {
  spec: CommandSpec;
  help: string;
  run: (p: ParsedArgs, io: IO) => Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  history: { ...HISTORY_COMMANDS.history!, run: history },
  undo: { ...HISTORY_COMMANDS.undo!, run: undo },
};

export const ROLLOUT_HELP = `Manage a SystemdWorkload's rollout.

Usage:
  kubectl sdw rollout SUBCOMMAND NAME [flags]

Subcommands:
  history NAME [--revision N]     the workload's revisions, or one revision's units
  undo NAME [--to-revision N]     patch the spec back to a revision's units

Run "kubectl sdw rollout SUBCOMMAND --help" for a subcommand's flags.
`;

/** Runs `rollout SUB ...`; usage errors are thrown for run() to print with its pointer to --help. */
export async function runRollout(argv: readonly string[], io: IO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    io.out(ROLLOUT_HELP);
    return sub === undefined ? 2 : 0;
  }
  const command = SUBCOMMANDS[sub];
  if (!command) throw new UsageError(`unknown rollout subcommand "${sub}" (one of: ${Object.keys(SUBCOMMANDS).join(', ')})`);
  const parsed = parseArgs(rest, command.spec);
  if (parsed.help) {
    io.out(command.help);
    return 0;
  }
  return command.run(parsed, io);
}
