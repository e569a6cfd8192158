// The commands of kubectl-sdw: their flags (for the parser) and their help text.
import type { CommandSpec } from './args.js';
import { CLUSTER_FLAGS, CLUSTER_HELP } from './clusterFlags.js';

const cluster = CLUSTER_FLAGS;

/** get and status: kubectl get's reading flags. */
const READ_FLAGS: CommandSpec['flags'] = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  output: { type: 'string', short: 'o', choices: ['json', 'yaml', 'wide', 'name'] },
  selector: { type: 'string', short: 'l' },
  watch: { type: 'boolean', short: 'w' },
  ...cluster,
};

export const COMMANDS: Record<string, { spec: CommandSpec; help: string }> = {
  get: {
    spec: {
      positionals: [0, 1],
      positionalNames: ['NAME'],
      flags: { ...READ_FLAGS, 'show-managed-fields': { type: 'boolean' } },
    },
    help: `List SystemdWorkloads as kubectl get does: a table, or the objects themselves.

Usage:
  kubectl sdw get [NAME] [-n NAMESPACE | -A] [-l SELECTOR] [-o json|yaml|wide|name] [-w]

Examples:
  kubectl sdw get                           # NAME DESIRED READY UP-TO-DATE RESTARTS PHASE AGE
  kubectl sdw get web -o yaml               # the object, as kubectl get sdw web -o yaml shows it
  kubectl sdw get -A -l team=db -w          # every namespace, by label, then a line per change

Flags:
  -n, --namespace NS            the namespace (default: the kubeconfig context's, else "default")
  -A, --all-namespaces          every namespace (adds a NAMESPACE column)
  -l, --selector SELECTOR       label selector (app=web,tier!=db; not with NAME)
  -o, --output FORMAT           json, yaml (the objects; a List for several), wide (adds
                                UNITS and NODE-SELECTOR), name (systemdworkload.GROUP/NAME)
  -w, --watch                   after the list, print each change as it happens (Ctrl-C ends;
                                with --request-timeout, ends after that long)
      --show-managed-fields     keep metadata.managedFields in json and yaml
${CLUSTER_HELP}
`,
  },
  status: {
    spec: {
      positionals: [0, 1],
      positionalNames: ['NAME'],
      flags: READ_FLAGS,
    },
    help: `Show SystemdWorkloads: workload -> nodes -> units, with phase, restarts, exit code,
memory, CPU and, for scheduled units, the last and next run.

Usage:
  kubectl sdw status [NAME] [-n NAMESPACE | -A] [-l SELECTOR] [-o json|yaml|wide|name] [-w]

Examples:
  kubectl sdw status web                    # one workload: its nodes and units
  kubectl sdw status -A -l team=db -o wide  # every namespace, by label, with unit details
  kubectl sdw status web -w                 # print it again on every change (Ctrl-C ends)

Flags:
  -n, --namespace NS            the namespace (default: the kubeconfig context's, else "default")
  -A, --all-namespaces          every namespace (not with NAME)
  -l, --selector SELECTOR       label selector (app=web,tier!=db; not with NAME)
  -o, --output FORMAT           json or yaml (the view, machine-readable; unknown figures
                                are null), wide, or name
  -w, --watch                   after the first view, print it again whenever a workload changes
${CLUSTER_HELP}

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

Examples:
  kubectl sdw render examples/web-service.yaml --node demo-1 --node-label role=web

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

Examples:
  kubectl sdw validate examples/*.yaml      # in CI, before kubectl apply

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

Examples:
  kubectl sdw logs web --node demo-1 --unit server -f

Flags:
  -n, --namespace NS              the workload's namespace
      --node NODE                 only this node (default: every node of the workload)
      --unit UNIT                 only this unit (spec.units[].name; default: all)
  -f, --follow                    keep printing new lines (also after the unit restarts)
      --tail N                    the last N lines per node (default -1: all)
      --since DURATION            only lines newer than this (5s, 2m, 3h)
      --timestamps                an RFC 3339 time before each line
${CLUSTER_HELP}

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

Examples:
  kubectl sdw import crontab backup.cron --user backup -n team-a > backup.yaml

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

Examples:
  kubectl sdw export backup -n team-a --format crontab > /etc/cron.d/backup

Flags:
      --format crontab   (default) an /etc/cron.d file when a unit names a user,
                         else a user crontab; @reboot for unscheduled oneshots
      --format units     the rendered files as <unit>.service / <unit>.timer,
                         without the operator's header and ownership marker
  -f, --filename FILE    read the workload from FILE instead of the cluster
  -n, --namespace NS     the workload's namespace in the cluster
  -o, --output-dir DIR   write the files into DIR instead of printing
${CLUSTER_HELP}

A unit with no equivalent (a long-running service as crontab) is reported on
stderr and the exit code is 1.
`,
  },
  completion: {
    spec: { positionals: [1, 1], positionalNames: ['SHELL'], flags: {} },
    help: `Print the shell completion script of kubectl-sdw (bash or zsh).

Usage:
  kubectl sdw completion bash|zsh

Examples:
  source <(kubectl sdw completion bash)     # in ~/.bashrc: completes "kubectl-sdw ..."
  kubectl sdw completion zsh > "\${fpath[1]}/_kubectl-sdw"

"kubectl sdw <TAB>" is completed by kubectl itself (1.26+), which runs an
executable named kubectl_complete-sdw from PATH: link it to kubectl-sdw,
  ln -s "$(command -v kubectl-sdw)" ~/.local/bin/kubectl_complete-sdw
(the krew archive ships it; link it from the plugin's krew directory).
Subcommands, flags, flag values and workload names (read from the cluster,
best effort) are completed.
`,
  },
};

export const TOP_HELP = `kubectl-sdw: the kubectl plugin of systemd-workload-operator.

Usage:
  kubectl sdw COMMAND [flags]

Commands:
  get [NAME]         workloads as kubectl get prints them (-o json|yaml|wide|name, -l, -w)
  status [NAME]      workloads -> nodes -> units: phase, restarts, exit code, memory, CPU, timers
  render FILE        the exact unit files a node would get (offline)
  validate FILE...   the admission checks, offline, for CI (exit code 1 on problems)
  logs NAME          a unit's journal, through the node's agent
  rollout SUBCOMMAND status, history, undo, pause, resume, restart, promote
  import SOURCE FILE crontab, cron.d, unit or jobs files -> SystemdWorkload YAML
  export NAME        a workload back to crontab lines or unit files
  completion SHELL   the shell completion script (bash, zsh)

Examples:
  kubectl sdw get -A                        # every workload, every namespace
  kubectl sdw status web -o wide            # one workload's nodes and units
  kubectl sdw rollout status web            # wait for a rollout to finish

Commands that talk to the cluster take kubectl's global flags: --kubeconfig,
--context, -n/--namespace, --as, --as-group, --request-timeout.
Run "kubectl sdw COMMAND --help" for a command's flags.
`;
