// kubectl sdw rollout history / undo without a cluster: the table, the choice of
// revision, and the group's help and usage errors (the e2e test runs them on a cluster).
import type { SystemdWorkload } from '../../../src/api/types.js';
import { formatHistory, undoTarget } from '../../../src/cli/rollout/history.js';
import { newRevision } from '../../../src/controller/revisions.js';
import { exec } from './execCli.js';

const owner = { namespace: 'default', name: 'web', uid: 'u1' };
const unit = (name: string) => ({ name, command: ['/bin/true'] });
const revisions = [
  newRevision(owner, 'b'.repeat(64), [unit('server')], 2),
  newRevision(owner, 'a'.repeat(64), [unit('server'), unit('migrate')], 1),
  newRevision(owner, 'c'.repeat(64), [unit('server')], 3),
];
const wl = {
  metadata: { name: 'web' },
  spec: { units: [] },
  status: { currentRevision: 'web-bbbbbbbbbb', updateRevision: 'web-cccccccccc' },
} as unknown as SystemdWorkload;

describe('kubectl sdw rollout history/undo', () => {
  it('lists revisions oldest first, marking the current and the update revision', () => {
    expect(formatHistory(wl, revisions)).toBe(
      [
        'systemdworkload.systemd.operators.dev/web',
        'REVISION  NAME            UNITS           STATUS',
        '1         web-aaaaaaaaaa  server,migrate  -',
        '2         web-bbbbbbbbbb  server          current',
        '3         web-cccccccccc  server          update',
        '',
      ].join('\n'),
    );
  });

  it('undo goes to the revision before the newest, or the one asked for', () => {
    expect(undoTarget(revisions).revision).toBe(2);
    expect(undoTarget(revisions, 1).revision).toBe(1);
    expect(() => undoTarget(revisions, 7)).toThrow('unable to find specified revision 7 in history');
    expect(() => undoTarget(revisions.slice(0, 1))).toThrow(/no earlier revision/);
  });

  it('has help, and refuses an unknown subcommand or a bad revision with usage exit code 2', async () => {
    expect((await exec(['rollout', '--help'])).out).toMatch(/^ {2}history /m);
    expect((await exec(['rollout', 'undo', '--help'])).out).toMatch(/kubectl sdw rollout undo NAME/);
    expect(await exec(['rollout', 'frobnicate', 'web'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unknown rollout subcommand/),
    });
    expect(await exec(['rollout', 'undo', 'web', '--to-revision', 'x'])).toMatchObject({ code: 2 });
    expect(await exec(['rollout', 'history'])).toMatchObject({ code: 2 });
  });
});
