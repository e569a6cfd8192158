import { UsageError, bool, list, parseArgs, str, type CommandSpec } from '../../../src/cli/args.js';
import { COMMANDS } from '../../../src/cli/spec.js';

const spec: CommandSpec = {
  positionals: [0, 1],
  positionalNames: ['NAME'],
  flags: {
    namespace: { type: 'string', short: 'n' },
    'all-namespaces': { type: 'boolean', short: 'A' },
    output: { type: 'string', short: 'o', choices: ['json', 'wide'] },
    label: { type: 'string', repeatable: true },
    lines: { type: 'string', integer: true },
  },
};

describe('parseArgs', () => {
  it('reads long, short, inline and separate values', () => {
    const p = parseArgs(['web', '-n', 'prod', '--output=json', '--label', 'a=b', '--label=c=d', '--lines', '5'], spec);
    expect(p.positionals).toEqual(['web']);
    expect(str(p, 'namespace')).toBe('prod');
    expect(str(p, 'output')).toBe('json');
    expect(list(p, 'label')).toEqual(['a=b', 'c=d']);
    expect(str(p, 'lines')).toBe('5');
    expect(parseArgs(['-nprod', '-ojson'], spec).flags).toEqual({ namespace: 'prod', output: 'json' });
    expect(parseArgs(['-n=prod'], spec).flags).toEqual({ namespace: 'prod' });
  });

  it('treats booleans as flags without values, and -- as the end of flags', () => {
    expect(bool(parseArgs(['-A'], spec), 'all-namespaces')).toBe(true);
    expect(bool(parseArgs(['--all-namespaces=false'], spec), 'all-namespaces')).toBe(false);
    expect(parseArgs(['--', '-weird-name'], spec).positionals).toEqual(['-weird-name']);
    expect(() => parseArgs(['-A=yes'], spec)).toThrow(/takes no value/);
  });

  it('rejects unknown flags naming them and the known ones', () => {
    expect(() => parseArgs(['--bogus'], spec)).toThrow(UsageError);
    expect(() => parseArgs(['--bogus'], spec)).toThrow(/unknown flag --bogus \(known flags: -n\/--namespace, -A\/--all-namespaces/);
    expect(() => parseArgs(['-x'], spec)).toThrow(/unknown flag -x/);
  });

  it('rejects missing values, bad choices, non-integers and wrong positional counts', () => {
    expect(() => parseArgs(['-n'], spec)).toThrow(/flag -n needs a value/);
    expect(() => parseArgs(['--namespace', '--output=json'], spec)).toThrow(/--namespace needs a value/);
    expect(() => parseArgs(['-o', 'yaml'], spec)).toThrow(/invalid value 'yaml' for --output: must be one of json, wide/);
    expect(() => parseArgs(['--lines', '-3'], spec)).toThrow(/needs a value/);
    expect(() => parseArgs(['--lines', 'x'], spec)).toThrow(/non-negative integer/);
    expect(() => parseArgs(['a', 'b'], spec)).toThrow(/unexpected extra argument 'b'/);
    expect(() => parseArgs([], { ...spec, positionals: [1, 1] })).toThrow(/missing argument NAME/);
  });

  it('accepts --help anywhere and then skips positional checks', () => {
    expect(parseArgs(['--help'], { ...spec, positionals: [1, 1] }).help).toBe(true);
    expect(parseArgs(['a', 'b', 'c', '-h'], spec).help).toBe(true);
  });

  it('every command has help text mentioning each of its flags', () => {
    for (const [name, c] of Object.entries(COMMANDS)) {
      expect(c.help).toMatch(/Usage:/);
      for (const flag of Object.keys(c.spec.flags)) expect({ name, has: c.help.includes(`--${flag}`) }).toEqual({ name, has: true });
    }
  });
});
