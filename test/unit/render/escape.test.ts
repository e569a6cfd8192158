import fc from 'fast-check';
import { FieldError } from '../../../src/api/errors.js';
import { isValidUnitName } from '../../../src/api/names.js';
import { environmentAssignment, escapeSpecifiers, execCommandLine, quoteExecArg, quotePathList } from '../../../src/render/index.js';
import { parseEnvironment, parseExecStart, parseWordList } from './helpers/systemdParse.js';

describe('quoteExecArg', () => {
  it.each([
    ['plain', '"plain"'],
    ['', '""'],
    ['two words', '"two words"'],
    ['back\\slash', '"back\\\\slash"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['100%', '"100%%"'],
    ['%n', '"%%n"'],
    ['$HOME', '"$$HOME"'],
    ['${HOME}', '"$${HOME}"'],
    [';', '";"'],
    ["it's", '"it\'s"'],
    ['ünïcødé ✓', '"ünïcødé ✓"'],
  ])('%j -> %s', (input, expected) => {
    expect(quoteExecArg(input)).toBe(expected);
  });

  it.each([['a\nb'], ['a\rb'], ['tab\there'], ['nul\u0000'], ['del\u007f'], ['c1\u0085'], ['esc\u001b[0m'], ['lone\ud800']])(
    'throws on %j',
    (input) => {
      expect(() => quoteExecArg(input, 'spec.units[0].command[1]')).toThrow(FieldError);
      expect(() => quoteExecArg(input, 'spec.units[0].command[1]')).toThrow(/^spec\.units\[0\]\.command\[1\]: must/);
    },
  );
});

describe('execCommandLine', () => {
  it('quotes every word', () => {
    expect(execCommandLine(['/usr/bin/node_exporter', '--web.listen-address=:9100'])).toBe(
      '"/usr/bin/node_exporter" "--web.listen-address=:9100"',
    );
  });
  it.each([
    [[], 'command: must have at least one item'],
    [['bin/x'], 'command[0]: must be an absolute path'],
    [['-/bin/x'], 'command[0]: must be an absolute path'],
    [['/bin/$X'], 'command[0]: must not contain "$"'],
    [['/bin/x', 'a\nExecStartPre=/bin/evil'], 'command[1]: must not contain control characters'],
  ])('%j is refused', (argv, message) => {
    expect(() => execCommandLine(argv)).toThrow(message);
  });
  it('round-trips a hostile argv through the systemd parser model', () => {
    const argv = ['/opt/my app/bin', ';', '\\;', '$X', '${X}', '%h', '"', "'", '\\', '', '  lead', 'trail  ', '-x', '@y'];
    expect(parseExecStart(execCommandLine(argv))).toEqual(argv);
  });
});

describe('environmentAssignment', () => {
  it.each([
    ['A', 'b', '"A=b"'],
    ['PATH_2', 'x y', '"PATH_2=x y"'],
    ['A', '$HOME', '"A=$HOME"'], // $ has no meaning in Environment=
    ['A', '50%', '"A=50%%"'],
    ['A', 'q"\\', '"A=q\\"\\\\"'],
    ['A', '', '"A="'],
  ])('%s=%j -> %s', (name, value, expected) => {
    expect(environmentAssignment(name, value)).toBe(expected);
  });
  it.each([['1A'], ['A-B'], ['A B'], ['']])('rejects the name %j', (name) => {
    expect(() => environmentAssignment(name, 'x', 'env[0]')).toThrow(/^env\[0\]\.name: /);
  });
  it('rejects a newline in the value', () => {
    expect(() => environmentAssignment('A', 'x\nExecStart=/bin/evil', 'env[0]')).toThrow(/^env\[0\]\.value: must not contain control/);
  });
});

describe('other escapes', () => {
  it('escapeSpecifiers', () => {
    expect(escapeSpecifiers('a%b%%')).toBe('a%%b%%%%');
  });
  it('quotePathList', () => {
    expect(quotePathList(['/a', '/b%c'])).toBe('"/a" "/b%%c"');
    expect(parseWordList(quotePathList(['/a', '/b%c']))).toEqual(['/a', '/b%c']);
  });
  it.each([
    ['sdw-default_web_server.service', true],
    ['a.service', true],
    ['a', false],
    ['.service', false],
    ['a b.service', false],
    ['a.unknown', false],
    [`${'a'.repeat(247)}.service`, true],
    [`${'a'.repeat(248)}.service`, false],
  ])('isValidUnitName(%j) = %s', (name, ok) => {
    expect(isValidUnitName(name)).toBe(ok);
  });
});

// Strings without control characters (C0, DEL, C1) and without lone surrogates:
// what admission lets through.
// eslint-disable-next-line no-control-regex
const SAFE = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const anyChar = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
const safeString = fc
  .string({ unit: fc.oneof(fc.constantFrom('\\', '"', "'", '%', '$', ';', ' ', '{', '}', 'x', '='), anyChar), maxLength: 40 })
  .filter((s) => SAFE.test(s) && !LONE.test(s));

describe('property: escaping round-trips through the systemd parser model', () => {
  it('ExecStart argv', () => {
    fc.assert(
      fc.property(
        safeString.filter((s) => !s.includes('$')),
        fc.array(safeString, { maxLength: 8 }),
        (p, args) => {
          const argv = [`/${p}`, ...args];
          expect(parseExecStart(execCommandLine(argv))).toEqual(argv);
        },
      ),
      { numRuns: 2000 },
    );
  });
  it('Environment assignments', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/), safeString, (name, value) => {
        expect(parseEnvironment(environmentAssignment(name, value))).toEqual([[name, value]]);
      }),
      { numRuns: 2000 },
    );
  });
  it('no input yields more than one line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (s) => {
        let out: string;
        try {
          out = quoteExecArg(s);
        } catch (e) {
          expect(e).toBeInstanceOf(FieldError);
          return;
        }
        expect(out).not.toMatch(/[\n\r]/);
        expect(out.endsWith('\\')).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
