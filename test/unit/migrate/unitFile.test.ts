import { onCalendarToCron } from '../../../src/migrate/calendar.js';
import { exportUnitFiles } from '../../../src/migrate/export.js';
import { toWorkloads } from '../../../src/migrate/job.js';
import { importUnitFiles, splitWords, timeSpan } from '../../../src/migrate/unitFile.js';

const SERVICE = `[Unit]
Description=Backup
After=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/local/bin/backup --to "/srv/my backups" 100%%
Environment="A=1" B=two
User=backup
MemoryMax=512M
CPUQuota=50%
CPUWeight=200
TasksMax=64
PrivateTmp=yes
ProtectSystem=strict
ReadWritePaths=/srv
Nice=10
`;
const TIMER = `[Timer]
OnCalendar=Mon..Fri *-*-* 02:30:00 Europe/Berlin
Persistent=true
RandomizedDelaySec=10m

[Install]
WantedBy=timers.target
`;

describe('importUnitFiles', () => {
  const r = importUnitFiles([
    { path: 'd/backup.service', text: SERVICE },
    { path: 'd/backup.timer', text: TIMER },
  ]);

  test('a timer and its service become one scheduled unit, every directive mapped', () => {
    expect(r.jobs).toEqual([
      {
        source: 'd/backup.timer:2',
        unit: {
          name: 'backup',
          type: 'oneshot',
          command: ['/usr/local/bin/backup', '--to', '/srv/my backups', '100%'],
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: 'two' },
          ],
          user: 'backup',
          resources: { limits: { memory: '512Mi', cpu: '500m', tasks: 64 }, requests: { cpu: '2000m' } },
          sandbox: { privateTmp: true, protectSystem: 'strict', readWritePaths: ['/srv'] },
          schedule: '30 2 * * 1,2,3,4,5',
          timeZone: 'Europe/Berlin',
        },
      },
    ]);
  });

  test('what is not carried is reported with file and line', () => {
    expect(r.issues.filter((i) => i.kind === 'unsupported').map((i) => i.source)).toEqual([
      'd/backup.service:3',
      'd/backup.service:17',
      'd/backup.timer:4',
    ]);
    expect(r.issues.filter((i) => i.kind === 'note').map((i) => i.source)).toEqual(['d/backup.service:2', 'd/backup.timer:3']);
  });

  test('a timer without its service, a template, specifiers and $VARIABLES are refused', () => {
    const x = importUnitFiles([
      { path: 'a.timer', text: '[Timer]\nOnCalendar=daily\n' },
      { path: 'b@.service', text: '[Service]\nExecStart=/bin/true\n' },
      { path: 'c.service', text: '[Service]\nExecStart=/bin/echo %n $HOME\n' },
    ]);
    expect(x.jobs).toEqual([]);
    expect(x.issues.map((i) => i.source)).toEqual(['b@.service', 'c.service:2', 'a.timer', 'c.service']);
  });

  test('the exported unit files import back to the same unit', () => {
    const [w] = toWorkloads(r.jobs, { namespace: 'team-a' });
    const files = exportUnitFiles(w!).files;
    expect(files.map((f) => f.name)).toEqual(['backup.service', 'backup.timer']);
    expect(files.map((f) => f.content).join('')).not.toMatch(/X-SDW|sdw-/);
    const back = importUnitFiles(files.map((f) => ({ path: f.name, text: f.content })));
    // The same unit; MemoryMax= is rendered in bytes, so the quantity comes back as bytes.
    const original = r.jobs[0]!.unit;
    const limits = { ...original.resources!.limits, memory: String(512 * 1024 * 1024) };
    expect(back.jobs.map((j) => j.unit)).toEqual([
      { ...original, resources: { ...original.resources, limits }, restart: { policy: 'Never' } },
    ]);
    expect(back.issues.filter((i) => i.kind === 'unsupported')).toEqual([]);
  });
});

describe('onCalendarToCron', () => {
  test.each([
    ['daily', '0 0 * * *'],
    ['weekly', '0 0 * * 1'],
    ['hourly', '0 * * * *'],
    ['*-*-* 6,18:00', '0 6,18 * * *'],
    ['Sun *-*-* 03:10:00', '10 3 * * 0'],
    ['Fri..Sun 12:00', '0 12 * * 5,6,0'],
    ['*-01,07-01 00/2:15..45/15', '15-45/15 0/2 1 1,7 *'],
  ])('%s -> %s', (cal, cron) => {
    expect(onCalendarToCron(cal)).toEqual({ schedule: cron });
  });
  test('a zone is kept', () => {
    expect(onCalendarToCron('*-*-* 02:00 Europe/Berlin')).toEqual({ schedule: '0 2 * * *', timeZone: 'Europe/Berlin' });
  });
  test.each(['*-*-* 00:00:30', '2027-*-* 00:00', 'Mon *-*-01 00:00', '*-*~1 00:00'])('%s has no cron equivalent', (cal) => {
    expect(() => onCalendarToCron(cal)).toThrow();
  });
});

test('splitWords and timeSpan follow systemd', () => {
  expect(splitWords(`/bin/sh -c "echo \\"hi\\" 'x'" 'a b'`)).toEqual(['/bin/sh', '-c', `echo "hi" 'x'`, 'a b']);
  expect([timeSpan('5'), timeSpan('90s'), timeSpan('1min 30s'), timeSpan('2h')]).toEqual([5, 90, 90, 7200]);
});
