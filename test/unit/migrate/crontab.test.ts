import { parseCron } from '../../../src/api/cron.js';
import { cronCommand, importCrontab, splitPercent, translateSchedule } from '../../../src/migrate/crontab.js';
import { exportCrontab } from '../../../src/migrate/export.js';
import { toWorkloads } from '../../../src/migrate/job.js';

const USER_CRONTAB = `# m h dom mon dow command
SHELL=/bin/bash
MAILTO=ops@example.com
CRON_TZ=Europe/Berlin
BACKUP_DIR="/srv/backup"

30 2 * * * tar czf $BACKUP_DIR/etc-$(date +\\%F).tgz /etc
*/15 9-17 * * 1-5 /usr/local/bin/poll
@reboot /usr/local/bin/warmup
`;

describe('importCrontab', () => {
  const r = importCrontab(USER_CRONTAB, { file: 'my.crontab', system: false });

  test('each job line becomes a oneshot unit with the environment, shell and zone set above it', () => {
    expect(r.jobs.map((j) => [j.unit.name, j.source, j.unit.schedule, j.unit.timeZone])).toEqual([
      ['my', 'my.crontab:7', '30 2 * * *', 'Europe/Berlin'],
      ['my-2', 'my.crontab:8', '*/15 9-17 * * 1-5', 'Europe/Berlin'],
      ['my-reboot', 'my.crontab:9', undefined, undefined],
    ]);
    expect(r.jobs[0]!.unit).toMatchObject({
      type: 'oneshot',
      command: ['/bin/bash', '-c', 'tar czf $BACKUP_DIR/etc-$(date +%F).tgz /etc'],
      env: [{ name: 'BACKUP_DIR', value: '/srv/backup' }],
    });
  });

  test('MAILTO is reported as a note with its line; nothing is unsupported', () => {
    expect(r.issues).toEqual([{ source: 'my.crontab:3', kind: 'note', message: expect.stringContaining('no mail is sent') }]);
  });

  test('a system crontab takes the user column', () => {
    const s = importCrontab('5-55/10 * * * * root command -v debian-sa1 > /dev/null && debian-sa1 1 1\n', {
      file: '/etc/cron.d/sysstat',
      system: true,
    });
    expect(s.jobs[0]!.unit).toMatchObject({
      name: 'sysstat',
      user: 'root',
      command: ['/bin/sh', '-c', 'command -v debian-sa1 > /dev/null && debian-sa1 1 1'],
    });
  });

  test('lines that cannot be carried are refused with their line number', () => {
    const bad = importCrontab('0 0 */2 * 1 /bin/true\n@every5m /bin/true\n0 0 * *\n0 0 30 2 * /bin/true\n', { file: 'x', system: false });
    expect(bad.jobs).toEqual([]);
    expect(bad.issues.map((i) => [i.source, i.kind])).toEqual([
      ['x:1', 'unsupported'],
      ['x:2', 'unsupported'],
      ['x:3', 'unsupported'],
      ['x:4', 'unsupported'],
    ]);
    expect(bad.issues[0]!.message).toContain('matching both');
    expect(bad.issues[3]!.message).toContain('never fires');
  });
});

describe('schedules Vixie cron and robfig read differently', () => {
  test.each([
    ['0 0 * * 7', '0 0 * * 0'],
    ['0 0 * * 5-7', '0 0 * * 5-6,0'],
    ['0 0 * * 0-7', '0 0 * * *'],
    ['5/10 * * * *', '5 * * * *'],
    ['5-55/10 * * * *', '5-55/10 * * * *'],
    ['0 0 */2 * *', '0 0 */2 * *'],
  ])('%s becomes %s', (src, want) => {
    expect(translateSchedule(src.split(' '))).toEqual({ schedule: want });
    expect(() => parseCron(want)).not.toThrow();
  });
});

describe('% in a command', () => {
  test('the first unescaped % starts standard input, each further % is a newline, \\% is a %', () => {
    expect(splitPercent('date +\\%F')).toEqual({ command: 'date +%F' });
    expect(splitPercent('mail -s hi root%line one%it\\%s done')).toEqual({ command: 'mail -s hi root', input: ['line one', 'it%s done'] });
  });
  test('input is fed by printf to the job shell', () => {
    expect(cronCommand("mail root%it's%done", '/bin/bash')).toEqual([
      '/bin/sh',
      '-c',
      `printf '%s\\n' 'it'\\''s' done | /bin/bash -c 'mail root'`,
    ]);
  });
});

test('export crontab gives back the lines import read (environment, shell, zone, user, %)', () => {
  const src = `SHELL=/bin/bash\nCRON_TZ=Europe/Berlin\nA=1\n30 2 * * * backup tar czf /b/$(date +\\%F).tgz /etc\n@reboot backup /usr/local/bin/warmup\n`;
  const first = importCrontab(src, { file: 'f', system: true });
  const [w] = toWorkloads(first.jobs, { oneWorkload: 'f' });
  const exported = exportCrontab(w!);
  expect(exported.problems).toEqual([]);
  const again = importCrontab(exported.files[0]!.content, { file: 'f', system: true });
  expect(again.jobs.map((j) => j.unit)).toEqual(first.jobs.map((j) => j.unit));
  expect(exported.files[0]!.content).toContain('30 2 * * * backup tar czf /b/$(date +\\%F).tgz /etc');
});

test('export crontab reports a long-running service, which cron cannot run', () => {
  const [w] = toWorkloads([{ unit: { name: 'web', command: ['/usr/bin/python3', '-m', 'http.server'] }, source: 's' }]);
  expect(exportCrontab(w!).problems).toEqual(['unit web: a long-running service has no crontab equivalent']);
});
