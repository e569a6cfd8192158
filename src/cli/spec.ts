// The commands of kubectl-sdw: their flags (for the parser) and their help text.
import type { CommandSpec, FlagSpec } from './args.js';

const cluster: Record<string, FlagSpec> = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
};

export const COMMANDS: Record<string, { spec: CommandSpec; help: string }> = {
  status: {
    spec: {
      positionals: [0, 1],
      positionalNames: ['NAME'],
      flags: {
        namespace: { type: 'string', short: 'n' },
        'all-namespaces': { type: 'boolean', short: 'A' },
        output: { type: 'string', short: 'o', choices: ['json', 'wide'] },
        ...cluster,
      },
    },
    help: `Show SystemdWorkloads: workload -> nodes -> units, with phase, restarts, exit code,
memory, CPU and, for scheduled units, the last and next run.

Usage:
  kubectl sdw status [NAME] [-n NAMESPACE | -A] [-o json|wide]

Flags:
  -n, --namespace NS      the namespace (default: the kubeconfig context's, else "default")
  -A, --all-namespaces    every namespace (not with NAME)
  -o, --output FORMAT     json (machine-readable; unknown figures are null) or wide
      --kubeconfig PATH   kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
      --context NAME      kubeconfig context

Unknown figures print as "-". Colour only on a terminal, and never with NO_COLOR set.
`,
  },
  render: {
    spec: {
      positionals: [1, 1],
      positionalNames: ['FILE'],
      flags: {
        node: { type: 'string' },
        'node-label': { type: 'string', repeatable: true },
        namespace: { type: 'string', short: 'n' },
      },
    },
    help: `Print the exact unit files a node would get for every SystemdWorkload in FILE,
offline (no cluster), each file preceded by a "# FILE: <name>" line.

Usage:
  kubectl sdw render FILE [--node NAME [--node-label KEY=VALUE]...] [-n NAMESPACE]

Flags:
      --node NAME               render for this node: workloads whose nodeSelector
                                excludes it are listed as not scheduled (the node is
                                assumed to carry kubernetes.io/hostname=NAME)
      --node-label KEY=VALUE    a label of the node, for nodeSelector matching (repeatable)
  -n, --namespace NS            namespace of documents without one (default "default")

FILE may hold several YAML documents; "-" reads standard input. Taints are not
checked offline. Exit code 1 when a workload is invalid (nothing is printed then).
`,
  },
  validate: {
    spec: { positionals: [1, Infinity], positionalNames: ['FILE'], flags: {} },
    help: `Check SystemdWorkload files offline with the same rules as admission (the CRD
schema and CEL rules, plus ordering cycles, cron syntax, quantities, time zones).

Usage:
  kubectl sdw validate FILE...

Every problem is printed as
  FILE: document N (SystemdWorkload NAMESPACE/NAME): FIELD: MESSAGE
and the exit code is 1 if there is any; otherwise "N workloads valid" and exit 0.
Documents of other API groups (a Namespace, say) are skipped.
`,
  },
  logs: {
    spec: {
      positionals: [1, 1],
      positionalNames: ['NAME'],
      flags: {
        namespace: { type: 'string', short: 'n' },
        node: { type: 'string' },
        unit: { type: 'string' },
        follow: { type: 'boolean', short: 'f' },
        lines: { type: 'string', integer: true },
        'agent-url': { type: 'string' },
        'operator-namespace': { type: 'string' },
        token: { type: 'string' },
        ...cluster,
      },
    },
    help: `Print the journal of a workload's units, read on the node by its agent.

Usage:
  kubectl sdw logs NAME [-n NAMESPACE] [--node NODE] [--unit UNIT] [-f] [--lines N]

Flags:
  -n, --namespace NS              the workload's namespace
      --node NODE                 only this node (default: every node of the workload)
      --unit UNIT                 only this unit (spec.units[].name; default: all)
  -f, --follow                    keep printing new lines
      --lines N                   lines of history per node (default 100)
      --agent-url URL             the agent's address (default: read from the agent's
                                  heartbeat Lease annotation systemd.operators.dev/agent-url)
      --operator-namespace NS     where the agents' Leases are (default systemd-workload-operator)
      --token TOKEN               bearer token to present (default: the kubeconfig user's)
      --kubeconfig PATH, --context NAME

The agent checks the token with the API server and serves only if you may
"get" systemdworkloads/log on the workload (RBAC). With several nodes each line
is prefixed with [NODE].
`,
  },
};

export const TOP_HELP = `kubectl-sdw: the kubectl plugin of systemd-workload-operator.

Usage:
  kubectl sdw COMMAND [flags]

Commands:
  status [NAME]      workloads -> nodes -> units: phase, restarts, exit code, memory, CPU, timers
  render FILE        the exact unit files a node would get (offline)
  validate FILE...   the admission checks, offline, for CI (exit code 1 on problems)
  logs NAME          a unit's journal, through the node's agent
  rollout SUBCOMMAND status, pause, resume, restart, promote a workload's rollout

Run "kubectl sdw COMMAND --help" for a command's flags.
`;
