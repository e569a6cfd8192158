// Shell completion for kubectl-sdw, in cobra's protocol (the one kubectl speaks):
// `kubectl-sdw __complete WORD... CURRENT` prints one candidate a line, then
// ":DIRECTIVE". kubectl (1.26+) completes `kubectl sdw <TAB>` by running an
// executable named kubectl_complete-sdw with the words after "sdw"; that name
// (a symlink to kubectl-sdw, or the archive's script) lands here too.
// `kubectl sdw completion bash|zsh` prints a script completing kubectl-sdw
// itself through the same protocol. Cluster look-ups are best effort: any
// error leaves the list empty, never prints.
import * as k8s from '@kubernetes/client-node';
import type { FlagSpec } from './args.js';
import { loadConfig, SdwClient } from './kube.js';
import { SUBCOMMANDS, ROLLOUT_COMMAND } from './rollout/index.js';
import { COMMANDS } from './spec.js';

/** cobra's ShellCompDirective bits. */
export const DIRECTIVE_DEFAULT = 0; // the shell may complete file names
export const DIRECTIVE_NO_FILE = 4;

/** Names in the cluster, for completing values; each returns [] on any error. */
export interface Lookup {
  workloads(ctx: WordContext): Promise<string[]>;
  namespaces(ctx: WordContext): Promise<string[]>;
  nodes(ctx: WordContext): Promise<string[]>;
  contexts(ctx: WordContext): Promise<string[]>;
}

/** The cluster flags already typed, so look-ups ask the cluster the command would. */
export interface WordContext {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  as?: string;
  allNamespaces: boolean;
}

export interface Completion {
  candidates: string[];
  directive: number;
}

const EXTRA_COMMANDS = ['completion', 'help'];
const IMPORT_SOURCES = ['crontab', 'cron.d', 'unit', 'jobs'];
/** Flags whose value is a path: leave it to the shell's file completion. */
const PATH_FLAGS = new Set(['kubeconfig', 'filename', 'output-dir']);
/** Commands whose first positional is a workload NAME. */
const NAME_COMMANDS = new Set(['get', 'status', 'logs', 'export']);

function flagsOf(command: string, sub: string | undefined): Record<string, FlagSpec> | undefined {
  if (command === ROLLOUT_COMMAND) return sub === undefined ? undefined : SUBCOMMANDS[sub]?.spec.flags;
  return COMMANDS[command]?.spec.flags;
}

function wordContext(words: readonly string[], flags: Record<string, FlagSpec>): WordContext {
  const ctx: WordContext = { allNamespaces: false };
  for (let i = 0; i < words.length; i++) {
    const { name, inline } = flagWord(words[i]!, flags);
    if (name === undefined) continue;
    if (name === 'all-namespaces') ctx.allNamespaces = true;
    const value = inline ?? words[i + 1];
    if (['kubeconfig', 'context', 'namespace', 'as'].includes(name) && value !== undefined) ctx[name as 'kubeconfig'] = value;
  }
  return ctx;
}

/** "--name=v", "--name", "-n", "-nv" -> the flag's long name and its inline value. */
function flagWord(word: string, flags: Record<string, FlagSpec>): { name?: string; inline?: string } {
  if (word.startsWith('--')) {
    const eq = word.indexOf('=');
    return eq < 0 ? { name: word.slice(2) } : { name: word.slice(2, eq), inline: word.slice(eq + 1) };
  }
  if (word.startsWith('-') && word.length >= 2) {
    const name = Object.entries(flags).find(([, f]) => f.short === word[1])?.[0];
    const rest = word.slice(2).replace(/^=/, '');
    return { name, inline: rest === '' ? undefined : rest };
  }
  return {};
}

/** The positionals typed so far (words that are neither flags nor their values). */
function positionals(words: readonly string[], flags: Record<string, FlagSpec>): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') return [...out, ...words.slice(i + 1)];
    if (!w.startsWith('-') || w === '-') {
      out.push(w);
      continue;
    }
    const { name, inline } = flagWord(w, flags);
    if (name !== undefined && flags[name]?.type === 'string' && inline === undefined) i++;
  }
  return out;
}

const only = (candidates: string[], cur: string, directive = DIRECTIVE_NO_FILE): Completion => ({
  candidates: [...new Set(candidates)].filter((c) => c.startsWith(cur)).sort(),
  directive,
});

/** Candidates for CURRENT, the last word (possibly ""), after the words before it. */
export async function complete(args: readonly string[], lookup: Lookup): Promise<Completion> {
  const cur = args.at(-1) ?? '';
  const [command, ...rest] = args.slice(0, -1);
  const fixed = fixedWords(command, rest);
  if (fixed) return only(fixed, cur);
  const sub = command === ROLLOUT_COMMAND ? rest[0] : undefined;
  const words = command === ROLLOUT_COMMAND ? rest.slice(1) : rest;
  const flags = flagsOf(command!, sub);
  if (!flags) return only([], cur);
  const ctx = wordContext(words, flags);
  const value = await flagValueCompletion(words, cur, flags, ctx, lookup);
  if (value) return value;
  if (cur.startsWith('-')) {
    const names = Object.entries(flags).flatMap(([n, f]) => [`--${n}`, ...(f.short && cur.length <= 2 ? [`-${f.short}`] : [])]);
    return only([...names, '--help'], cur);
  }
  return positionalCompletion(command!, positionals(words, flags), cur, ctx, lookup);
}

/** The words completed without looking at flags: commands, rollout's subcommands, shells. */
function fixedWords(command: string | undefined, rest: readonly string[]): string[] | undefined {
  if (command === undefined) return [...Object.keys(COMMANDS), ROLLOUT_COMMAND, ...EXTRA_COMMANDS];
  if (command === 'help') return rest.length ? [] : [...Object.keys(COMMANDS), ROLLOUT_COMMAND];
  if (command === 'completion') return rest.length ? [] : ['bash', 'zsh'];
  if (command === ROLLOUT_COMMAND && rest.length === 0) return Object.keys(SUBCOMMANDS);
  return undefined;
}

/** A flag's value: after "--flag" / "-f", or "--flag=..." being typed; undefined when cur is no flag value. */
async function flagValueCompletion(
  words: readonly string[],
  cur: string,
  flags: Record<string, FlagSpec>,
  ctx: WordContext,
  lookup: Lookup,
): Promise<Completion | undefined> {
  const prev = words.at(-1);
  const pending = prev?.startsWith('-') ? flagWord(prev, flags) : {};
  const inline = cur.startsWith('--') && cur.includes('=') ? flagWord(cur, flags) : undefined;
  const awaiting = pending.inline === undefined && flags[pending.name ?? '']?.type === 'string' ? pending.name : undefined;
  const name = inline?.name ?? awaiting;
  if (name === undefined) return undefined;
  const values = await flagValues(name, flags[name], ctx, lookup);
  if (values === undefined) return { candidates: [], directive: DIRECTIVE_DEFAULT };
  const prefix = inline ? `--${name}=` : '';
  return only(
    values.map((v) => prefix + v),
    cur,
  );
}

function positionalCompletion(
  command: string,
  typed: readonly string[],
  cur: string,
  ctx: WordContext,
  lookup: Lookup,
): Promise<Completion> | Completion {
  const files = { candidates: [], directive: DIRECTIVE_DEFAULT };
  if (command === 'import') return typed.length === 0 ? only(IMPORT_SOURCES, cur) : files;
  if (command === 'render' || command === 'validate') return files;
  if ((NAME_COMMANDS.has(command) || command === ROLLOUT_COMMAND) && typed.length === 0) {
    return lookup.workloads(ctx).then((names) => only(names, cur));
  }
  return only([], cur);
}

/** The values a flag may take; undefined: a path, for the shell to complete. */
async function flagValues(name: string, f: FlagSpec | undefined, ctx: WordContext, lookup: Lookup): Promise<string[] | undefined> {
  if (PATH_FLAGS.has(name)) return undefined;
  if (f?.choices) return [...f.choices];
  if (name === 'namespace' || name === 'operator-namespace') return lookup.namespaces(ctx);
  if (name === 'context') return lookup.contexts(ctx);
  if (name === 'node') return lookup.nodes(ctx);
  return [];
}

/** How long a look-up may take before completion gives up on it. */
const LOOKUP_TIMEOUT_MS = 5000;

async function quietly(f: () => Promise<string[]>): Promise<string[]> {
  try {
    return await f();
  } catch {
    return [];
  }
}

/** Look-ups against the cluster the typed flags name. */
export const clusterLookup: Lookup = {
  workloads: (ctx) =>
    quietly(async () => {
      const client = new SdwClient(config(ctx));
      const ns = ctx.allNamespaces
        ? undefined
        : (ctx.namespace ?? client.kc.getContextObject(client.kc.getCurrentContext())?.namespace ?? 'default');
      return (await client.listWorkloads(ns)).map((w) => w.metadata.name ?? '');
    }),
  namespaces: (ctx) =>
    quietly(async () => (await config(ctx).makeApiClient(k8s.CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name ?? '')),
  nodes: (ctx) => quietly(async () => (await config(ctx).makeApiClient(k8s.CoreV1Api).listNode()).items.map((n) => n.metadata?.name ?? '')),
  contexts: (ctx) =>
    quietly(async () =>
      Promise.resolve(
        config({ ...ctx, context: undefined })
          .getContexts()
          .map((c) => c.name),
      ),
    ),
};

function config(ctx: WordContext): k8s.KubeConfig {
  return loadConfig({ kubeconfig: ctx.kubeconfig, context: ctx.context, as: ctx.as, requestTimeoutMs: LOOKUP_TIMEOUT_MS });
}

export function formatCompletion(c: Completion): string {
  return [...c.candidates, `:${c.directive}`].join('\n') + '\n';
}

/** The script `kubectl sdw completion SHELL` prints: completes the kubectl-sdw command through __complete. */
export function completionScript(shell: 'bash' | 'zsh'): string {
  if (shell === 'bash') {
    return `# bash completion for kubectl-sdw: source <(kubectl-sdw completion bash)
# (for "kubectl sdw <TAB>", kubectl 1.26+ runs kubectl_complete-sdw; see the README)
_kubectl_sdw() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out directive IFS=$'\\n'
  out=$(kubectl-sdw __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null) || return 0
  directive="\${out##*:}"
  out="\${out%:*}"
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
  if [[ \${#COMPREPLY[@]} -eq 0 && $((directive & ${DIRECTIVE_NO_FILE})) -eq 0 ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o nosort -F _kubectl_sdw kubectl-sdw
`;
  }
  return `#compdef kubectl-sdw
# zsh completion for kubectl-sdw: source <(kubectl-sdw completion zsh), after compinit
# (for "kubectl sdw <TAB>", kubectl 1.26+ runs kubectl_complete-sdw; see the README)
_kubectl_sdw() {
  local -a lines
  local directive
  lines=("\${(@f)$(kubectl-sdw __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null)}")
  directive="\${lines[-1]#:}"
  lines=("\${(@)lines[1,-2]}")
  if (( \${#lines} )); then
    compadd -Q -- "\${lines[@]}"
  elif (( (directive & ${DIRECTIVE_NO_FILE}) == 0 )); then
    _files
  fi
}
compdef _kubectl_sdw kubectl-sdw
`;
}
