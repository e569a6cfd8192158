// kubectl-sdw's command lines, on node:util parseArgs (its tokens), with the
// checks and messages a kubectl plugin needs.
//
// Accepted forms: --name=value, --name value, -n value, -nvalue (short flags
// with a value), --flag / -f (booleans), "--" ends flags. A flag given twice
// keeps the last value unless it is declared repeatable. Unknown flags, missing
// values and wrong positional counts raise UsageError, whose message is printed
// with a pointer to --help and exit code 2.

import { parseArgs as nodeParseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** 'string' takes a value; 'boolean' does not. */
  type: 'string' | 'boolean';
  short?: string;
  repeatable?: boolean;
  /** Allowed values (string flags). */
  choices?: readonly string[];
  /** The value must be a non-negative integer. */
  integer?: boolean;
}

export interface CommandSpec {
  flags: Record<string, FlagSpec>;
  /** Positional arguments: [min, max] (max Infinity for "any number"). */
  positionals: [number, number];
  /** Names of the positionals for error messages, e.g. ['NAME'] or ['FILE']. */
  positionalNames?: string[];
}

export interface ParsedArgs {
  positionals: string[];
  /** Boolean flags: true when given; string flags: the last value; repeatable: every value. */
  flags: Record<string, string | boolean | string[]>;
  help: boolean;
}

export function parseArgs(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: {}, help: false };
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(spec.flags)) options[name] = { type: f.type, ...(f.short ? { short: f.short } : {}) };
  // strict: false leaves the judging (and its messages) to us, token by token.
  const { tokens } = nodeParseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const grouped = new Set<number>();
  for (const t of tokens) {
    if (t.kind === 'positional') out.positionals.push(t.value);
    if (t.kind !== 'option' || grouped.has(t.index)) continue;
    if (t.name === 'help') {
      out.help = true;
      continue;
    }
    const f = spec.flags[t.name];
    if (!f) throw new UsageError(`unknown flag ${t.rawName}${knownFlags(spec)}`);
    const raw = argv[t.index]!;
    if (f.type === 'boolean') {
      // A short boolean followed by more characters ("-A=yes", "-Ab") is read by
      // node as a group of flags; here it is one flag with a value.
      const inline = t.rawName.startsWith('--') ? t.value : raw.length > 2 ? raw.slice(2).replace(/^=/, '') : undefined;
      if (inline !== undefined && inline !== 'true' && inline !== 'false')
        throw new UsageError(`flag ${t.rawName} takes no value (got '${inline}')`);
      grouped.add(t.index);
      set(out, t.name, f, inline !== 'false');
      continue;
    }
    // "-n=prod": node keeps the "="; a separate value must not look like a flag.
    let value = t.value;
    if (value !== undefined && t.inlineValue && !t.rawName.startsWith('--') && raw.startsWith(`${t.rawName}=`)) value = value.slice(1);
    if (value === undefined || (!t.inlineValue && value.startsWith('-') && value !== '-'))
      throw new UsageError(`flag ${t.rawName} needs a value`);
    set(out, t.name, f, value);
  }

  if (!out.help) {
    const [min, max] = spec.positionals;
    const names = spec.positionalNames ?? [];
    if (out.positionals.length < min) {
      throw new UsageError(`missing argument ${names[out.positionals.length] ?? names[0] ?? ''}`.trimEnd());
    }
    if (out.positionals.length > max) {
      const extra = out.positionals[max]!;
      throw new UsageError(max === 0 ? `unexpected argument '${extra}'` : `unexpected extra argument '${extra}'`);
    }
  }
  return out;
}

function set(out: ParsedArgs, name: string, f: FlagSpec, value: string | boolean): void {
  if (typeof value === 'string') {
    if (f.choices && !f.choices.includes(value)) {
      throw new UsageError(`invalid value '${value}' for --${name}: must be one of ${f.choices.join(', ')}`);
    }
    if (f.integer && !/^\d+$/.test(value)) throw new UsageError(`invalid value '${value}' for --${name}: must be a non-negative integer`);
  }
  if (f.repeatable && typeof value === 'string') {
    const prev = out.flags[name];
    out.flags[name] = [...(Array.isArray(prev) ? prev : []), value];
  } else {
    out.flags[name] = value;
  }
}

function knownFlags(spec: CommandSpec): string {
  const names = Object.entries(spec.flags).map(([n, f]) => (f.short ? `-${f.short}/--${n}` : `--${n}`));
  return names.length ? ` (known flags: ${names.join(', ')}, -h/--help)` : ' (this command takes no flags besides -h/--help)';
}

/** Typed accessors over ParsedArgs.flags. */
export function str(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}
export function bool(p: ParsedArgs, name: string): boolean {
  return p.flags[name] === true;
}
export function list(p: ParsedArgs, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
