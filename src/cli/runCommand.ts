// One command's run, shared by kubectl-sdw's commands and the rollout
// subcommands: parse its argv, print its help, run it, and turn what it throws
// into kubectl's exit codes (2 usage, 1 failure) and messages.
import { UsageError, parseArgs, type CommandSpec, type ParsedArgs } from './args.js';
import type { IO } from './io.js';
import { apiErrorMessage } from './kube.js';
import { CliError } from './logs.js';

export async function runCommand(
  /** As the user typed it, for the pointer to --help: "status", "rollout status". */
  name: string,
  argv: readonly string[],
  command: { spec: CommandSpec; help: string },
  handler: (p: ParsedArgs, io: IO) => Promise<number>,
  io: IO,
): Promise<number> {
  try {
    const parsed = parseArgs(argv, command.spec);
    if (parsed.help) {
      io.out(command.help);
      return 0;
    }
    return await handler(parsed, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\nRun "kubectl sdw ${name} --help" for usage.\n`);
      return 2;
    }
    io.err(`error: ${err instanceof CliError ? err.message : apiErrorMessage(err)}\n`);
    return 1;
  }
}
