// Command-line flags in the --name=value / --name value form, with defaults.
// Unknown flags are an error naming the flag, so a typo in a manifest is loud.
// --help (or -h) prints the flags with their defaults and exits 0.
export function parseFlags(argv: string[], defaults: Record<string, string>): Record<string, string> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(flagsUsage(defaults));
    process.exit(0);
  }
  const out: Record<string, string> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!(name in defaults)) throw new Error(`unknown flag --${name}; known: ${Object.keys(defaults).map((k) => `--${k}`).join(', ')}`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`flag --${name} needs a value`);
    out[name] = value;
  }
  return out;
}

/** One line per flag: --name=default. */
export function flagsUsage(defaults: Record<string, string>): string {
  return `Flags (with their defaults):\n${Object.entries(defaults).map(([k, v]) => `  --${k}=${v}\n`).join('')}`;
}
