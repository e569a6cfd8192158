// The daemons' command lines (controller, agent): --name=value or --name value,
// each flag with a default. Unknown flags, positionals and missing values are
// errors naming the flag, so a typo in a manifest is loud. --help (or -h)
// prints the flags with their defaults and exits 0.
import { parseArgs } from 'node:util';

// Typed by the defaults' keys, so every known flag reads as a string.
export function parseFlags<K extends string>(argv: string[], defaults: Record<K, string>): Record<K, string> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(flagsUsage(defaults));
    process.exit(0);
  }
  const options = Object.fromEntries(Object.keys(defaults).map((name) => [name, { type: 'string' as const }]));
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const out: Record<string, string> = { ...defaults };
  for (const t of tokens) {
    if (t.kind === 'positional') throw new Error(`unexpected argument '${t.value}'`);
    if (t.kind !== 'option') continue;
    if (!(t.name in defaults))
      throw new Error(
        `unknown flag ${t.rawName}; known: ${Object.keys(defaults)
          .map((k) => `--${k}`)
          .join(', ')}`,
      );
    if (t.value === undefined) throw new Error(`flag --${t.name} needs a value`);
    out[t.name] = t.value;
  }
  return out;
}

/** One line per flag: --name=default. */
export function flagsUsage(defaults: Record<string, string>): string {
  return `Flags (with their defaults):\n${Object.entries(defaults)
    .map(([k, v]) => `  --${k}=${v}\n`)
    .join('')}`;
}
