// run() end to end without a cluster: help, usage errors, validate and render on files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exec } from './execCli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sdw-cli-'));
const good = path.join(dir, 'good.yaml');
const bad = path.join(dir, 'bad.yaml');
writeFileSync(
  good,
  'apiVersion: systemd.operators.dev/v1alpha1\nkind: SystemdWorkload\nmetadata: {name: a}\nspec:\n  units:\n  - {name: x, command: [/bin/true]}\n',
);
writeFileSync(
  bad,
  'apiVersion: systemd.operators.dev/v1alpha1\nkind: SystemdWorkload\nmetadata: {name: b, namespace: n}\nspec:\n  units:\n  - {name: x, command: [bin/true]}\n',
);

describe('kubectl-sdw run()', () => {
  it('prints help for the plugin and each command', async () => {
    expect((await exec(['--help'])).out).toMatch(/Commands:\n\s+get .*\n\s+status /);
    for (const c of ['status', 'render', 'validate', 'logs']) {
      const r = await exec([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`kubectl sdw ${c}`));
    }
  });

  it('exits 2 with a clear message for unknown commands and flags', async () => {
    expect(await exec(['frobnicate'])).toMatchObject({ code: 2, err: expect.stringMatching(/^error: unknown command "frobnicate"/) });
    const r = await exec(['validate', '--strict', good]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: unknown flag --strict/);
    expect(r.err).toContain('Run "kubectl sdw validate --help" for usage.');
  });

  it('validate: exit 0 and a count, or exit 1 and one message per problem', async () => {
    expect(await exec(['validate', good])).toEqual({ code: 0, out: '1 workload valid\n', err: '' });
    const r = await exec(['validate', good, bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${bad}: document 1 (SystemdWorkload n/b): spec.units[0].command[0]: must be an absolute path`);
    expect(r.err).toContain('1 problem found');
    expect(r.out).toBe('');
  });

  it('render: the files on stdout, or the problems and exit 1', async () => {
    const r = await exec(['render', good, '--node', 'n1']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('# FILE: sdw-default_a_x.service\n# Managed by systemd-workload-operator');
    expect(r.out).toContain('ExecStart="/bin/true"');
    const b = await exec(['render', bad]);
    expect(b).toMatchObject({ code: 1, out: '' });
    expect((await exec(['render', good, '--node-label', 'a=b'])).err).toMatch(/--node-label needs --node/);
  });
});
