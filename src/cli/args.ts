// A small, pure command-line parser for kubectl-sdw (no dependencies).
//
// Accepted forms: --name=value, --name value, -n value, -nvalue (short flags
// with a value), --flag / -f (booleans), "--" ends flags. A flag given twice
// keeps the last value unless it is declared repeatable. Unknown flags, missing
// values and wrong positional counts raise UsageError, whose message is printed
// with a pointer to --help and exit code 2.

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
  const byShort = new Map<string, string>();
  for (const [name, f] of Object.entries(spec.flags)) if (f.short) byShort.set(f.short, name);
  const out: ParsedArgs = { positionals: [], flags: {}, help: false };

  const set = (name: string, f: FlagSpec, value: string | boolean): void => {
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
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    let name: string | undefined;
    let inline: string | undefined;
    let display: string;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      display = `--${name}`;
      if (!(name in spec.flags)) throw new UsageError(`unknown flag ${display}${knownFlags(spec)}`);
    } else if (arg.startsWith('-') && arg.length > 1 && arg !== '-') {
      const short = arg[1]!;
      display = `-${short}`;
      name = byShort.get(short);
      if (name === undefined) throw new UsageError(`unknown flag ${display}${knownFlags(spec)}`);
      const rest = arg.slice(2);
      if (rest !== '') inline = rest.startsWith('=') ? rest.slice(1) : rest;
    } else {
      out.positionals.push(arg);
      continue;
    }
    const f = spec.flags[name]!;
    if (f.type === 'boolean') {
      if (inline !== undefined) {
        if (inline !== 'true' && inline !== 'false') throw new UsageError(`flag ${display} takes no value (got '${inline}')`);
        set(name, f, inline === 'true');
      } else set(name, f, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) throw new UsageError(`flag ${display} needs a value`);
      value = next;
      i++;
    }
    set(name, f, value);
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
