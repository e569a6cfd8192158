// kubectl's global flags, as every kubectl-sdw command that talks to the cluster
// takes them: which kubeconfig and context, whom to impersonate, how long to
// wait for one request. One place turns them into a client (kube.ts applies
// impersonation and the timeout to every request of it).
import { UsageError, list, str, type FlagSpec, type ParsedArgs } from './args.js';
import { SdwClient, loadConfig } from './kube.js';

export const CLUSTER_FLAGS: Record<string, FlagSpec> = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  as: { type: 'string' },
  'as-group': { type: 'string', repeatable: true },
  'request-timeout': { type: 'string' },
};

export const CLUSTER_HELP = `      --kubeconfig PATH         kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
      --context NAME            kubeconfig context
      --as USER                 impersonate USER (needs the "impersonate" permission)
      --as-group GROUP          impersonate GROUP (repeatable)
      --request-timeout DUR     give up on a single request after DUR (1s, 2m, 3h; a plain
                                number is seconds; 0, the default, waits for ever)`;

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** kubectl's --request-timeout: a Go duration ("1m30s") or a number of seconds, in ms. */
export function parseRequestTimeout(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((m) => m[0]).join('') !== value) {
    throw new UsageError(`invalid value '${value}' for --request-timeout: a duration such as 30s, 1m30s or 2h, or a number of seconds`);
  }
  return Math.ceil(parts.reduce((ms, m) => ms + Number(m[1]) * UNIT_MS[m[2]!]!, 0));
}

/** The client a command's cluster flags ask for. */
export function clusterClient(p: ParsedArgs): SdwClient {
  const timeout = str(p, 'request-timeout');
  return new SdwClient(
    loadConfig({
      kubeconfig: str(p, 'kubeconfig'),
      context: str(p, 'context'),
      as: str(p, 'as'),
      asGroups: list(p, 'as-group'),
      requestTimeoutMs: timeout === undefined ? undefined : parseRequestTimeout(timeout),
    }),
  );
}

/** Flags that take a value, by every name they are typed as (for moving them past the command). */
function valueFlagNames(): Set<string> {
  return new Set(
    Object.entries(CLUSTER_FLAGS)
      .filter(([, f]) => f.type === 'string')
      .flatMap(([n]) => [`--${n}`])
      .concat(['-n', '--namespace']),
  );
}

/**
 * kubectl accepts global flags before the command (`kubectl sdw --context prod
 * status`); kubectl-sdw's parser reads flags per command, so leading global flags
 * are moved after it. Anything else before the command is left where it is.
 */
export function hoistGlobalFlags(argv: readonly string[]): string[] {
  const takesValue = valueFlagNames();
  const lead: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '-h' && argv[i] !== '--help') {
    const a = argv[i]!;
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (!takesValue.has(name)) break;
    const n = a.includes('=') ? 1 : 2;
    lead.push(...argv.slice(i, i + n));
    i += n;
  }
  if (lead.length === 0 || i >= argv.length) return [...argv];
  const [cmd, ...rest] = argv.slice(i);
  // rollout's subcommand comes before its flags too.
  if (cmd === 'rollout' && rest.length > 0 && !rest[0]!.startsWith('-')) return [cmd, rest[0]!, ...lead, ...rest.slice(1)];
  return [cmd!, ...lead, ...rest];
}
