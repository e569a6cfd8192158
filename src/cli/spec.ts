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
        tail: { type: 'string' },
        since: { type: 'string' },
        timestamps: { type: 'boolean' },
        ...cluster,
      },
    },
    help: `Print the journal of a workload's units on its nodes, through the API server.

Usage:
  kubectl sdw logs NAME [-n NAMESPACE] [--node NODE] [--unit UNIT] [-f] [--tail N] [--since 1h] [--timestamps]

Flags:
  -n, --namespace NS              the workload's namespace
      --node NODE                 only this node (default: every node of the workload)
      --unit UNIT                 only this unit (spec.units[].name; default: all)
  -f, --follow                    keep printing new lines (also after the unit restarts)
      --tail N                    the last N lines per node (default -1: all)
      --since DURATION            only lines newer than this (5s, 2m, 3h)
      --timestamps                an RFC 3339 time before each line
      --kubeconfig PATH, --context NAME

With several nodes each line starts with its node's name, with several units
with the unit's name. Any kubeconfig kubectl accepts works (token, client
certificate, exec plugin): the request goes to the API server, which needs you
to have "get" on systemdworkloads/log in API group
subresources.systemd.operators.dev in the namespace (RBAC), and passes it to
the operator's aggregated logs API.

Example:
  kubectl sdw logs web --unit server --since 10m -f
`,
  },
  import: {
    spec: {
      positionals: [2, Infinity],
      positionalNames: ['SOURCE', 'FILE'],
      flags: {
        namespace: { type: 'string', short: 'n' },
        'node-selector': { type: 'string', repeatable: true },
        user: { type: 'string' },
        'one-workload': { type: 'string' },
        system: { type: 'boolean' },
        'allow-unsupported': { type: 'boolean' },
        'output-dir': { type: 'string', short: 'o' },
      },
    },
    help: `Turn crontabs, unit files or a job list into SystemdWorkload YAML that
kubectl apply accepts as is (stdout, or one file per workload with -o DIR).

Usage:
  kubectl sdw import crontab FILE|-     a user crontab (crontab -l)
  kubectl sdw import cron.d FILE|-      /etc/crontab or an /etc/cron.d file (user column)
  kubectl sdw import unit FILE...       .service and .timer files (a timer with its service)
  kubectl sdw import jobs FILE|-        a job list: [{name, schedule, timeZone, command,
                                        user, env, resources: {requests, limits}}]

Flags:
  -n, --namespace NS              metadata.namespace of every workload
      --node-selector KEY=VALUE   spec.nodeSelector (repeatable)
      --user USER                 run every unit as USER (overrides the user column, User=)
      --one-workload NAME         one workload NAME with every job as a unit
                                  (default: one workload per job, named as the job)
      --system                    crontab FILE has a user column (as /etc/crontab, /etc/cron.d;
                                  implied for such paths and by "import cron.d")
      --allow-unsupported         import what can be, leaving out what is reported unsupported
  -o, --output-dir DIR            write DIR/<workload>.yaml instead of printing

Every line or directive not carried over as is gets a report line on stderr,
FILE:LINE: unsupported|note: why. Any "unsupported" fails the import (exit 1,
nothing printed) unless --allow-unsupported. What each construct becomes is in
the README (Migrating from cron and unit files).
`,
  },
  export: {
    spec: {
      positionals: [1, 1],
      positionalNames: ['NAME'],
      flags: {
        format: { type: 'string', choices: ['crontab', 'units'] },
        filename: { type: 'string', short: 'f' },
        namespace: { type: 'string', short: 'n' },
        'output-dir': { type: 'string', short: 'o' },
        ...cluster,
      },
    },
    help: `Write a SystemdWorkload back as crontab lines or unit files, to move a job
back to where it came from.

Usage:
  kubectl sdw export NAME [--format crontab|units] [-n NS | -f FILE] [-o DIR]

Flags:
      --format crontab   (default) an /etc/cron.d file when a unit names a user,
                         else a user crontab; @reboot for unscheduled oneshots
      --format units     the rendered files as <unit>.service / <unit>.timer,
                         without the operator's header and ownership marker
  -f, --filename FILE    read the workload from FILE instead of the cluster
  -n, --namespace NS     the workload's namespace in the cluster
  -o, --output-dir DIR   write the files into DIR instead of printing
      --kubeconfig PATH, --context NAME

A unit with no equivalent (a long-running service as crontab) is reported on
stderr and the exit code is 1.
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
  rollout SUBCOMMAND status, history, undo, pause, resume, restart, promote
  import SOURCE FILE crontab, cron.d, unit or jobs files -> SystemdWorkload YAML
  export NAME        a workload back to crontab lines or unit files

Run "kubectl sdw COMMAND --help" for a command's flags.
`;
