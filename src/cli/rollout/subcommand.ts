// What a `kubectl sdw rollout` subcommand is: its flags, its help, and what it
// does. Each subcommand is a file of this folder exporting one of these;
// index.ts lists them (a new subcommand is a new file and one line there).
import type { CommandSpec, FlagSpec, ParsedArgs } from '../args.js';
import { str } from '../args.js';
import type { IO } from '../io.js';
import { CLUSTER_FLAGS, CLUSTER_HELP, clusterClient } from '../clusterFlags.js';
import { contextNamespace, type SdwClient } from '../kube.js';

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
  ...CLUSTER_FLAGS,
};

export const TARGET_HELP = `  -n, --namespace NS            the workload's namespace (default: the kubeconfig context's, else "default")
${CLUSTER_HELP}`;

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
  const client = clusterClient(p);
  return { client, namespace: str(p, 'namespace') ?? contextNamespace(client.kc), name: p.positionals[0]! };
}

/** How kubectl names the object in its messages. */
export const objectName = (name: string): string => `systemdworkload.systemd.operators.dev/${name}`;
