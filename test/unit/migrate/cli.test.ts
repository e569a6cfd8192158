// kubectl sdw import / export through run(): exit codes, stdout and the report on stderr.
import { run, type IO } from '../../../src/cli/commands.js';

function io(stdin: string): IO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    env: {},
    isTTY: false,
    readStdin: () => Promise.resolve(stdin),
    signal: new AbortController().signal,
    stdout: () => out,
    stderr: () => err,
  };
}

const CRONTAB = '0 0 * * * /usr/bin/backup\n0 0 */2 * 1 /bin/true\n';

test('an unsupported line fails the import with its line number, and nothing is printed', async () => {
  const x = io(CRONTAB);
  expect(await run(['import', 'crontab', '-'], x)).toBe(1);
  expect(x.stdout()).toBe('');
  expect(x.stderr()).toContain('-:2: unsupported: ');
});

test('--allow-unsupported imports the rest with the options; export gives the crontab line back', async () => {
  const x = io(CRONTAB);
  const args = [
    'import',
    'crontab',
    '-',
    '--allow-unsupported',
    '-n',
    'team-a',
    '--node-selector',
    'role=batch',
    '--user',
    'backup',
    '--one-workload',
    'nightly',
  ];
  expect(await run(args, x)).toBe(0);
  expect(x.stdout()).toContain('name: nightly\n  namespace: team-a\n');
  expect(x.stdout()).toContain('nodeSelector:\n    role: batch\n');
  const back = io(x.stdout());
  expect(await run(['export', 'nightly', '-f', '-'], back)).toBe(0);
  expect(back.stdout()).toContain('\n0 0 * * * backup /usr/bin/backup\n');
});

test('an unknown import source is a usage error', async () => {
  const x = io('');
  expect(await run(['import', 'anacrontab', '-'], x)).toBe(2);
});
