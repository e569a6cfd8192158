// What a `kubectl sdw rollout` subcommand is: its flags, its help, and what it
// does. Each subcommand is a file of this folder exporting one of these;
// index.ts lists them (a new subcommand is a new file and one line there).
import type { CommandSpec, FlagSpec, ParsedArgs } from '../args.js';
import { str } from '../args.js';
import type { IO } from '../io.js';
import { SdwClient, contextNamespace, loadConfig } from '../kube.js';

export interface RolloutSubcommand {
  /** One line for `kubectl sdw rollout --help`. */
  summary: string;
  spec: CommandSpec;
  help: string;
  run: (p: ParsedArgs, io: IO) => Promise<number>;
}

/** The flags every subcommand takes: which workload, on which cluster. */
export const TARGET_FLAGS: Record<string, FlagSpec> = {
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
};

export const TARGET_HELP = `  -n, --namespace NS      the workload's namespace (default: the kubeconfig context's, else "default")
      --kubeconfig PATH   kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
      --context NAME      kubeconfig context`;

/** A subcommand's spec: one NAME, the target flags and its own. */
export function nameSpec(flags: Record<string, FlagSpec> = {}): CommandSpec {
  return { positionals: [1, 1], positionalNames: ['NAME'], flags: { ...TARGET_FLAGS, ...flags } };
}

export interface Target {
  client: SdwClient;
  namespace: string;
  name: string;
}

export function target(p: ParsedArgs): Target {
  const client = new SdwClient(loadConfig({ kubeconfig: str(p, 'kubeconfig'), context: str(p, 'context') }));
  return { client, namespace: str(p, 'namespace') ?? contextNamespace(client.kc), name: p.positionals[0]! };
}

/** How kubectl names the object in its messages. */
export const objectName = (name: string): string => `systemdworkload.systemd.operators.dev/${name}`;
