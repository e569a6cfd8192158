// The admission cases, one table per check, each run twice: through the API
// server (e2e: test/e2e/controller/admission.test.ts and security/bad-inputs.test.ts
// for the CRD schema and its CEL; security/policy.test.ts for config/policy's
// CEL) and offline (unit: test/unit/api/admission-table.test.ts through
// validateWorkload; test/unit/controller/policy-table.test.ts through
// src/controller/policy.ts). A case added here is checked on both sides.
import type { SystemdWorkloadPolicySpec } from '../../src/api/types.js';

export type Unit = Record<string, unknown>;
/** A unit that passes the root default (dynamicUser); cases change one field. */
export const unit = (x: Unit = {}): Unit => ({ name: 'main', command: ['/bin/sleep', 'infinity'], dynamicUser: true, ...x });

export function manifest(name: string, spec: Record<string, unknown>, ns = 'default'): string {
  return JSON.stringify({ apiVersion: 'systemd.operators.dev/v1alpha1', kind: 'SystemdWorkload', metadata: { name, namespace: ns }, spec });
}

/** The schema/CEL rejections (name, spec, field + message): admission.test.ts checks them alone, bad-inputs.test.ts against real nodes. */
export const SCHEMA_CASES: Array<[string, Record<string, unknown>, RegExp]> = [
  ['bad unit name', { units: [unit({ name: 'Bad_Name' })] }, /spec\.units\[0\]\.name/],
  ['duplicate unit names', { units: [unit(), unit()] }, /spec\.units\[1\].*Duplicate value/],
  ['relative command path', { units: [unit({ command: ['bin/sleep', '1'] })] }, /spec\.units\[0\]\.command.*absolute path/],
  ['newline in an argument', { units: [unit({ command: ['/bin/echo', 'a\nExecStartPre=/bin/evil'] })] }, /spec\.units\[0\]\.command\[1\]/],
  ['invalid env name', { units: [unit({ env: [{ name: '1BAD', value: 'x' }] })] }, /spec\.units\[0\]\.env\[0\]\.name/],
  ['after names a missing unit', { units: [unit({ after: ['db'] })] }, /spec\.units.*must name units of this workload/],
  ['requires names a missing unit', { units: [unit({ requires: ['db'] })] }, /spec\.units.*must name units of this workload/],
  ['a unit ordered after itself', { units: [unit({ after: ['main'] })] }, /spec\.units\[0\]\.after.*must not list itself/],
  [
    'two units ordered after each other',
    { units: [unit({ name: 'a', after: ['b'] }), unit({ name: 'b', after: ['a'] })] },
    /spec\.units.*ordering cycle/,
  ],
  ['bad cron: minute 61', { units: [unit({ schedule: '61 * * * *', type: 'oneshot' })] }, /spec\.units\[0\]\.schedule/],
  ['bad cron: four fields', { units: [unit({ schedule: '* * * *', type: 'oneshot' })] }, /spec\.units\[0\]\.schedule/],
  // Kubernetes CronJob (robfig/cron v3) refuses these too; CronJob would never run the never-firing ones.
  ['cron: 7 as Sunday', { units: [unit({ schedule: '0 0 * * 7', type: 'oneshot' })] }, /spec\.units\[0\]\.schedule/],
  ['cron: upper-case @DAILY', { units: [unit({ schedule: '@DAILY', type: 'oneshot' })] }, /spec\.units\[0\]\.schedule/],
  ['cron: @every', { units: [unit({ schedule: '@every 1h', type: 'oneshot' })] }, /spec\.units\[0\]\.schedule/],
  [
    'cron never fires: 30 February',
    { units: [unit({ schedule: '0 0 30 2 *', type: 'oneshot' })] },
    /spec\.units\[0\]\.schedule.*never fires/,
  ],
  [
    'cron never fires: 31st of 30-day months',
    { units: [unit({ schedule: '0 0 31 4,6,9,11 *', type: 'oneshot' })] },
    /spec\.units\[0\]\.schedule.*never fires/,
  ],
  [
    'cron never fires: 30-31 in February (names, ?)',
    { units: [unit({ schedule: '0 0 30-31 feb,02 ?', type: 'oneshot' })] },
    /spec\.units\[0\]\.schedule.*never fires/,
  ],
  ['unknown time zone', { units: [unit({ schedule: '@daily', timeZone: 'Mars/Olympus', type: 'oneshot' })] }, /spec\.units\[0\]\.timeZone/],
  [
    'time zone in the wrong case',
    { units: [unit({ schedule: '@daily', timeZone: 'europe/berlin', type: 'oneshot' })] },
    /spec\.units\[0\]\.timeZone/,
  ],
  ['bad memory quantity', { units: [unit({ resources: { limits: { memory: 'lots' } } })] }, /spec\.units\[0\]\.resources\.limits\.memory/],
  ['zero cpu limit', { units: [unit({ resources: { limits: { cpu: '0' } } })] }, /spec\.units\[0\]\.resources\.limits\.cpu/],
  ['tasks 0', { units: [unit({ resources: { limits: { tasks: 0 } } })] }, /spec\.units\[0\]\.resources\.limits\.tasks/],
  [
    'maxUnavailable 0',
    { units: [unit()], updateStrategy: { rollingUpdate: { maxUnavailable: 0 } } },
    /spec\.updateStrategy\.rollingUpdate\.maxUnavailable/,
  ],
  [
    'maxUnavailable 150%',
    { units: [unit()], updateStrategy: { rollingUpdate: { maxUnavailable: '150%' } } },
    /spec\.updateStrategy\.rollingUpdate\.maxUnavailable/,
  ],
  [
    'negative partition',
    { units: [unit()], updateStrategy: { rollingUpdate: { partition: -1 } } },
    /spec\.updateStrategy\.rollingUpdate\.partition/,
  ],
  [
    'nodeOrder label key with a space',
    { units: [unit()], updateStrategy: { rollingUpdate: { nodeOrder: { labelKey: 'my zone' } } } },
    /spec\.updateStrategy\.rollingUpdate\.nodeOrder\.labelKey/,
  ],
  [
    'nodeOrder without labelKey',
    { units: [unit()], updateStrategy: { rollingUpdate: { nodeOrder: {} } } },
    /spec\.updateStrategy\.rollingUpdate\.nodeOrder\.labelKey/,
  ],
  ['user and dynamicUser both set', { units: [unit({ user: 'nobody', dynamicUser: true })] }, /spec\.units\[0\]\.user/],
  ['too many units', { units: Array.from({ length: 33 }, (_, i) => unit({ name: `u${i}` })) }, /spec\.units.*(Too many|must have at most)/],
  ['no units', { units: [] }, /spec\.units/],
  ['relative workingDirectory', { units: [unit({ workingDirectory: 'var/lib/x' })] }, /spec\.units\[0\]\.workingDirectory/],
  ['workingDirectory with ..', { units: [unit({ workingDirectory: '/var/../etc' })] }, /spec\.units\[0\]\.workingDirectory/],
  ['unknown restart policy', { units: [unit({ restart: { policy: 'Sometimes' } })] }, /spec\.units\[0\]\.restart\.policy/],
  ['zero back-off cap', { units: [unit({ restart: { maxDelaySeconds: 0 } })] }, /spec\.units\[0\]\.restart\.maxDelaySeconds/],
  ['negative back-off cap', { units: [unit({ restart: { maxDelaySeconds: -5 } })] }, /spec\.units\[0\]\.restart\.maxDelaySeconds/],
  [
    'back-off cap below the delay',
    { units: [unit({ restart: { delaySeconds: 30, maxDelaySeconds: 10 } })] },
    /spec\.units\[0\]\.restart\.maxDelaySeconds/,
  ],
  ['negative restart delay', { units: [unit({ restart: { delaySeconds: -1 } })] }, /spec\.units\[0\]\.restart\.delaySeconds/],
  [
    'oneshot with restart Always',
    { units: [unit({ type: 'oneshot', restart: { policy: 'Always' } })] },
    /spec\.units\[0\]\.restart\.policy/,
  ],
  ['unknown unit type', { units: [unit({ type: 'daemon' })] }, /spec\.units\[0\]\.type/],
  ['timeZone without schedule', { units: [unit({ timeZone: 'Europe/Berlin' })] }, /spec\.units\[0\]\.timeZone/],
  ['missing command', { units: [{ name: 'main', dynamicUser: true }] }, /spec\.units\[0\]\.command.*Required/],
  [
    'Exists toleration with a value',
    { units: [unit()], tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] },
    /spec\.tolerations\[0\]\.value/,
  ],
  ['negative minReadySeconds', { units: [unit()], minReadySeconds: -5 }, /spec\.minReadySeconds/],
  ['zero progressDeadlineSeconds', { units: [unit()], progressDeadlineSeconds: 0 }, /spec\.progressDeadlineSeconds/],
  ['negative revisionHistoryLimit', { units: [unit()], revisionHistoryLimit: -1 }, /spec\.revisionHistoryLimit/],
  [
    'relative readWritePaths entry',
    { units: [unit({ sandbox: { readWritePaths: ['data'] } })] },
    /spec\.units\[0\]\.sandbox\.readWritePaths\[0\]/,
  ], // ---- files (issue 15): the workload is 'bad' in default, its directory /etc/sdw/default/bad/ ----
  ['relative file path', { units: [unit()], files: [file({ path: 'app.conf' })] }, /spec\.files\[0\]\.path/],
  ["file path with '..'", { units: [unit()], files: [file({ path: '/etc/sdw/default/bad/../x' })] }, /spec\.files\[0\]\.path/],
  [
    'file path outside the workload directory',
    { units: [unit()], files: [file({ path: '/etc/sdw/default/other/x' })] },
    /spec\.files.*must be under/,
  ],
  // Forbidden whatever a policy allows (src/api/filePaths.ts): the CRD refuses them, naming the field.
  ...[
    '/etc/systemd/system/evil.service',
    '/run/systemd/system/x.service',
    '/usr/local/bin/tool',
    '/proc/sys/kernel/x',
    '/sys/x',
    '/dev/sda',
    '/var/lib/sdw/artifacts/default/bad/app/current',
    '/var/lib/systemd-workload-agent/written-files.json',
    '/etc/systemd',
  ].map((p): [string, Record<string, unknown>, RegExp] => [
    `file path under a forbidden directory: ${p}`,
    { units: [unit()], files: [file({ path: p })] },
    /spec\.files\[0\]\.path.*must not be under \/etc\/systemd, \/run\/systemd, \/usr, \/proc, \/sys, \/dev, \/var\/lib\/sdw, \/var\/lib\/systemd-workload-agent/,
  ]),
  [
    'file path /etc/sdw itself',
    { units: [unit()], files: [file({ path: '/etc/sdw' })] },
    /spec\.files.*a path under \/etc\/sdw must be under/,
  ],
  ['file mode not octal', { units: [unit()], files: [file({ mode: '0999' })] }, /spec\.files\[0\]\.mode/],
  [
    'two files at one path',
    { units: [unit()], files: [file(), file({ name: 'b' })] },
    /spec\.files.*two files must not have the same path/,
  ],
  ['a unit names an undeclared file', { units: [unit({ files: [{ name: 'nope' }] })] }, /spec\.units.*must name a file of spec\.files/],
  [
    'a ConfigMap key ref without key',
    { units: [unit()], files: [file({ content: undefined, configMapKeyRef: { name: 'cfg' } })] },
    /spec\.files\[0\]\.configMapKeyRef\.key.*[Rr]equired/,
  ],
  [
    'a Secret key ref without name',
    { units: [unit()], files: [file({ content: undefined, secretKeyRef: { key: 'k' } })] },
    /spec\.files\[0\]\.secretKeyRef\.name.*[Rr]equired/,
  ],
  [
    'an env key ref without key',
    { units: [unit({ env: [{ name: 'T', valueFrom: { secretKeyRef: { name: 's' } } }] })] },
    /spec\.units\[0\]\.env\[0\]\.valueFrom\.secretKeyRef\.key.*[Rr]equired/,
  ],
  [
    'a file with two sources',
    { units: [unit()], files: [file({ configMapKeyRef: { name: 'cfg', key: 'k' } })] },
    /spec\.files\[0\].*exactly one of content/,
  ],
  [
    'changeMode reload without a reload',
    { units: [unit({ files: [{ name: 'conf', changeMode: 'reload' }] })], files: [file()] },
    /spec\.units\[0\]\.files.*reload needs/,
  ], // Probes (issue 14): each refusal names the probe's field.
  [
    'probe without a handler',
    { units: [unit({ readinessProbe: { periodSeconds: 5 } })] },
    /spec\.units\[0\]\.readinessProbe.*exactly one handler/,
  ],
  [
    'probe with two handlers',
    { units: [unit({ livenessProbe: { tcpSocket: { port: 80 }, httpGet: { port: 80 } } })] },
    /spec\.units\[0\]\.livenessProbe.*exactly one handler/,
  ],
  [
    'probe period 0',
    { units: [unit({ readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 0 } })] },
    /spec\.units\[0\]\.readinessProbe\.periodSeconds/,
  ],
  [
    'negative probe period',
    { units: [unit({ readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: -10 } })] },
    /spec\.units\[0\]\.readinessProbe\.periodSeconds/,
  ],
  [
    'probe failureThreshold 0',
    { units: [unit({ livenessProbe: { tcpSocket: { port: 80 }, failureThreshold: 0 } })] },
    /spec\.units\[0\]\.livenessProbe\.failureThreshold/,
  ],
  [
    'probe port 70000',
    { units: [unit({ readinessProbe: { httpGet: { port: 70000 } } })] },
    /spec\.units\[0\]\.readinessProbe\.httpGet\.port/,
  ],
  ['probe port 0', { units: [unit({ readinessProbe: { tcpSocket: { port: 0 } } })] }, /spec\.units\[0\]\.readinessProbe\.tcpSocket\.port/],
  [
    'exec probe with a relative command',
    { units: [unit({ livenessProbe: { exec: { command: ['test', '-f', '/tmp/x'] } } })] },
    /spec\.units\[0\]\.livenessProbe\.exec\.command.*absolute path/,
  ],
  [
    'httpGet path without a leading slash',
    { units: [unit({ readinessProbe: { httpGet: { port: 80, path: 'healthz' } } })] },
    /spec\.units\[0\]\.readinessProbe\.httpGet\.path/,
  ],
  [
    'liveness successThreshold 2',
    { units: [unit({ livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } })] },
    /spec\.units\[0\]\.livenessProbe\.successThreshold/,
  ],
  [
    'a probe on a oneshot unit',
    { units: [unit({ type: 'oneshot', readinessProbe: { tcpSocket: { port: 80 } } })] },
    /spec\.units\[0\]\.type.*readinessProbe and livenessProbe/,
  ],
];

/** A valid file of workload 'bad' (cases change one field). */
function file(x: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'conf', path: '/etc/sdw/default/bad/app.conf', content: 'a = 1\n', ...x };
}

/** Schedules Kubernetes CronJob accepts, near the edges of the refusals above: admitted as they are ([schedule, timeZone or '']). */
export const ACCEPTED_SCHEDULES: Array<[string, string]> = [
  ['*/60 * * * *', ''],
  ['*/45 */13 */40 */12 ?', ''],
  ['? ? ? ? ?', ''],
  ['007 07 * * sun', ''],
  ['0 0 30 2 mon', ''], // day-of-month OR day-of-week: every Monday of February
  ['0 0 30 */2 *', ''], // months 1, 3, ...: 30 January
  ['0 0 31 2-12/5 *', ''], // months 2, 7, 12: 31 July
  ['0 0 31 4-6 *', ''], // 31 May
  ['0 0 29 2 *', ''], // leap years
  ['30 1 * * *', 'America/New_York'],
  ['@hourly', 'Etc/GMT+5'],
];

/**
 * More schema/CEL rejections (name, spec, field + message, workload name if not
 * the default), mostly injection attempts; bad-inputs.test.ts runs them against real nodes.
 */
export const SCHEMA_EXTRA_CASES: Array<[string, Record<string, unknown>, RegExp, string?]> = [
  ['workload name over 63 characters', { units: [unit()] }, /metadata\.name: must be at most 63 characters/, `bad-${'x'.repeat(60)}`],
  // Injection attempts: nothing may start a new line (a new directive) in a unit file.
  [
    'newline in an env value',
    { units: [unit({ env: [{ name: 'A', value: 'x\nExecStartPre=/bin/evil' }] })] },
    /spec\.units\[0\]\.env\[0\]\.value/,
  ],
  [
    'escape character in an env value',
    { units: [unit({ env: [{ name: 'A', value: 'x\u001b[2J' }] })] },
    /spec\.units\[0\]\.env\[0\]\.value/,
  ],
  ['DEL in an argument', { units: [unit({ command: ['/bin/echo', 'a\u007fb'] })] }, /spec\.units\[0\]\.command\[1\]/],
  ['C1 control (NEL) in an argument', { units: [unit({ command: ['/bin/echo', 'a\u0085b'] })] }, /spec\.units\[0\]\.command\[1\]/],
  ['newline in user', { units: [unit({ dynamicUser: undefined, user: 'nobody\nUser=root' })] }, /spec\.units\[0\]\.user/],
  ['newline in group', { units: [unit({ group: 'x\nGroup=root' })] }, /spec\.units\[0\]\.group/],
  ['newline in workingDirectory', { units: [unit({ workingDirectory: '/srv\nUser=root' })] }, /spec\.units\[0\]\.workingDirectory/],
  [
    'space in a readOnlyPaths entry (a second path)',
    { units: [unit({ sandbox: { readOnlyPaths: ['/srv /etc'] } })] },
    /spec\.units\[0\]\.sandbox\.readOnlyPaths\[0\]/,
  ],
  ['newline in schedule', { units: [unit({ type: 'oneshot', schedule: '* * * * *\nOnCalendar=minutely' })] }, /spec\.units\[0\]\.schedule/],
  [
    'timeZone escaping the zoneinfo directory',
    { units: [unit({ type: 'oneshot', schedule: '@daily', timeZone: 'Europe/../../etc/passwd' })] },
    /spec\.units\[0\]\.timeZone/,
  ],
  ["'$' in command[0] (no expansion)", { units: [unit({ command: ['/bin/$SHELL'] })] }, /spec\.units\[0\]\.command.*absolute path/],
  ['env name with "="', { units: [unit({ env: [{ name: 'A=B', value: 'x' }] })] }, /spec\.units\[0\]\.env\[0\]\.name/],
  ['unit name with a dot (another unit type)', { units: [unit({ name: 'x.socket' })] }, /spec\.units\[0\]\.name/],
  [
    'too many env entries',
    { units: [unit({ env: Array.from({ length: 129 }, (_, i) => ({ name: `V${i}`, value: 'x' })) })] },
    /spec\.units\[0\]\.env.*(Too many|must have at most)/,
  ],
  [
    'a 5000-character argument',
    { units: [unit({ command: ['/bin/echo', 'y'.repeat(5000)] })] },
    /spec\.units\[0\]\.command\[1\].*(Too long|at most)/,
  ],
  ...artifactCases(),
];

/** spec.artifacts (src/api/artifacts.ts): a unit that uses artifact 'app', declared as each case says. */
function artifactCases(): Array<[string, Record<string, unknown>, RegExp]> {
  const sha256 = 'a'.repeat(64);
  const app = (x: Record<string, unknown> = {}) => ({ name: 'app', url: 'https://releases.example.com/app.tar.gz', sha256, ...x });
  const spec = (...artifacts: Array<Record<string, unknown>>) => ({ units: [unit({ artifacts: ['app'] })], artifacts });
  return [
    ['artifact without sha256', spec(app({ sha256: undefined })), /spec\.artifacts\[0\]\.sha256.*[Rr]equired/],
    ['artifact sha256 of 63 hex digits', spec(app({ sha256: 'a'.repeat(63) })), /spec\.artifacts\[0\]\.sha256/],
    ['artifact sha256 not hex', spec(app({ sha256: 'z'.repeat(64) })), /spec\.artifacts\[0\]\.sha256/],
    ['artifact url with scheme ftp', spec(app({ url: 'ftp://releases.example.com/app.tar.gz' })), /spec\.artifacts\[0\]\.url.*http/],
    ['artifact url without a scheme', spec(app({ url: 'releases.example.com/app.tar.gz' })), /spec\.artifacts\[0\]\.url.*http/],
    ['artifact url file://', spec(app({ url: 'file:///etc/shadow' })), /spec\.artifacts\[0\]\.url.*http/],
    ['two artifacts named alike', spec(app(), app()), /spec\.artifacts\[1\].*Duplicate value/],
    ['artifact unpack format rar', spec(app({ unpack: 'rar' })), /spec\.artifacts\[0\]\.unpack/],
    ['artifact maxSize 0', spec(app({ maxSize: '0' })), /spec\.artifacts\[0\]\.maxSize/],
    [
      'a unit naming an undeclared artifact',
      { units: [unit({ artifacts: ['app'] })], artifacts: [app({ name: 'other' })] },
      /spec.*must name artifacts of spec\.artifacts/,
    ],
  ];
}

// ---- SystemdWorkloadPolicy (config/policy/workload_policy.yaml and src/controller/policy.ts) ----
// Messages name the namespace as NS and the policy as P; each runner puts in its own.

export interface RuleCase {
  rule: string;
  policy: Omit<SystemdWorkloadPolicySpec, 'namespaces'>;
  /** Label the namespace allow-root=true (so that the default does not decide). */
  rootLabel?: boolean;
  /** Label the namespace allow-file-paths=true (so that the default file-path policy does not decide). */
  filePathsLabel?: boolean;
  allowed: Array<Record<string, unknown>>;
  refused: Array<[Record<string, unknown>, string]>;
}

const u = (x: Unit = {}) => ({ units: [unit(x)] });
/** A workload with inline files at these paths (spec.files[i] in order). */
const withFiles = (...paths: string[]) => ({
  units: [unit()],
  files: paths.map((path, i) => ({ name: `f${i}`, path, content: 'a = 1\n' })),
});

export const POLICY_RULES: RuleCase[] = [
  {
    rule: 'allowRoot false: no unit runs as root (no user, user root/0)',
    policy: {},
    rootLabel: true,
    allowed: [u({ dynamicUser: undefined, user: 'nobody' }), u()],
    refused: [
      [u({ dynamicUser: undefined }), 'spec.units[0].user: root is not allowed in namespace NS (SystemdWorkloadPolicy P)'],
      [
        { units: [unit({ name: 'a' }), unit({ name: 'b', dynamicUser: undefined, user: '0' })] },
        'spec.units[1].user: root is not allowed in namespace NS (SystemdWorkloadPolicy P)',
      ],
      [u({ dynamicUser: undefined, user: 'root' }), 'spec.units[0].user: root is not allowed in namespace NS (SystemdWorkloadPolicy P)'],
    ],
  },
  {
    rule: 'allowRoot false: no root group',
    policy: {},
    rootLabel: true,
    allowed: [u({ dynamicUser: undefined, user: 'nobody', group: 'nogroup' })],
    refused: [
      [
        u({ dynamicUser: undefined, user: 'nobody', group: 'root' }),
        'spec.units[0].group: root is not allowed in namespace NS (SystemdWorkloadPolicy P)',
      ],
    ],
  },
  {
    rule: 'allowRoot true (with the namespace label): root is admitted',
    policy: { allowRoot: true },
    rootLabel: true,
    allowed: [u({ dynamicUser: undefined }), u({ dynamicUser: undefined, user: 'root', group: '0' })],
    refused: [],
  },
  {
    rule: 'allowedUsers',
    policy: { allowedUsers: ['svc', 'nobody'] },
    allowed: [u({ dynamicUser: undefined, user: 'svc' }), u()],
    refused: [
      [
        u({ dynamicUser: undefined, user: 'bob' }),
        "spec.units[0].user: user 'bob' is not allowed in namespace NS (SystemdWorkloadPolicy P allows: svc, nobody, dynamicUser)",
      ],
    ],
  },
  {
    rule: 'allowedExecutables',
    policy: { allowedExecutables: ['/usr/bin/', '/bin/sleep'] },
    allowed: [u(), u({ command: ['/usr/bin/python3', '-V'] })],
    refused: [
      [
        u({ command: ['/bin/sh', '-c', 'id'] }),
        "spec.units[0].command[0]: '/bin/sh' is not an allowed executable in namespace NS (SystemdWorkloadPolicy P allows: /usr/bin/, /bin/sleep)",
      ],
      [
        u({ command: ['/usr/bin/../../tmp/evil'] }),
        "spec.units[0].command[0]: '/usr/bin/../../tmp/evil' is not an allowed executable in namespace NS (SystemdWorkloadPolicy P allows: /usr/bin/, /bin/sleep)",
      ],
      [
        u({ command: ['/bin/sleepy'] }),
        "spec.units[0].command[0]: '/bin/sleepy' is not an allowed executable in namespace NS (SystemdWorkloadPolicy P allows: /usr/bin/, /bin/sleep)",
      ],
    ],
  },
  {
    rule: 'allowedFilePaths: a file outside /etc/sdw lies strictly below an entry',
    policy: { allowedFilePaths: ['/opt/app', '/etc/app/'] },
    filePathsLabel: true,
    allowed: [withFiles('/opt/app/app.conf'), withFiles('/etc/app/conf.d/x.conf', '/opt/app/y')],
    refused: [
      [
        withFiles('/opt/application/x'),
        "spec.files[0].path: '/opt/application/x' is not under an allowed file path in namespace NS (SystemdWorkloadPolicy P allows: /opt/app, /etc/app/)",
      ],
      [
        withFiles('/opt/app/ok', '/etc/app'),
        "spec.files[1].path: '/etc/app' is not under an allowed file path in namespace NS (SystemdWorkloadPolicy P allows: /opt/app, /etc/app/)",
      ],
    ],
  },
  {
    rule: 'allowedFilePaths not set: no file outside /etc/sdw, even with the namespace label',
    policy: {},
    filePathsLabel: true,
    allowed: [u()],
    refused: [
      [
        withFiles('/opt/app/app.conf'),
        "spec.files[0].path: '/opt/app/app.conf' is not under an allowed file path in namespace NS (SystemdWorkloadPolicy P allows: no path outside /etc/sdw)",
      ],
    ],
  },
  {
    rule: 'allowedNodeSelectors',
    policy: { allowedNodeSelectors: [{ key: 'role', values: ['web', 'batch'] }, { key: 'team-a.example.com/pool' }] },
    allowed: [
      { ...u(), nodeSelector: { role: 'web', zone: 'a' } },
      { ...u(), nodeSelector: { 'team-a.example.com/pool': 'x' } },
    ],
    refused: [
      [
        u(),
        'spec.nodeSelector: must select nodes by an allowed label in namespace NS (SystemdWorkloadPolicy P allows: role=web|batch, team-a.example.com/pool)',
      ],
      [
        { ...u(), nodeSelector: { role: 'db' } },
        'spec.nodeSelector: must select nodes by an allowed label in namespace NS (SystemdWorkloadPolicy P allows: role=web|batch, team-a.example.com/pool)',
      ],
    ],
  },
  {
    rule: 'requiredSandbox.noNewPrivileges',
    policy: { requiredSandbox: { noNewPrivileges: true } },
    allowed: [u({ sandbox: { noNewPrivileges: true } })],
    refused: [
      [u(), 'spec.units[0].sandbox.noNewPrivileges: must be true in namespace NS (SystemdWorkloadPolicy P)'],
      [
        u({ sandbox: { noNewPrivileges: false } }),
        'spec.units[0].sandbox.noNewPrivileges: must be true in namespace NS (SystemdWorkloadPolicy P)',
      ],
    ],
  },
  {
    rule: 'requiredSandbox.privateTmp',
    policy: { requiredSandbox: { privateTmp: true } },
    allowed: [u({ sandbox: { privateTmp: true } })],
    refused: [[u(), 'spec.units[0].sandbox.privateTmp: must be true in namespace NS (SystemdWorkloadPolicy P)']],
  },
  {
    rule: 'requiredSandbox.protectSystem',
    policy: { requiredSandbox: { protectSystem: 'full' } },
    allowed: [u({ sandbox: { protectSystem: 'full' } }), u({ sandbox: { protectSystem: 'strict' } })],
    refused: [
      [
        u({ sandbox: { protectSystem: 'true' } }),
        "spec.units[0].sandbox.protectSystem: must be 'full' or stricter, not 'true' in namespace NS (SystemdWorkloadPolicy P)",
      ],
      [u(), "spec.units[0].sandbox.protectSystem: must be 'full' or stricter, not 'false' in namespace NS (SystemdWorkloadPolicy P)"],
    ],
  },
  {
    rule: 'requiredSandbox.protectHome',
    policy: { requiredSandbox: { protectHome: 'read-only' } },
    allowed: [u({ sandbox: { protectHome: 'tmpfs' } }), u({ sandbox: { protectHome: 'true' } })],
    refused: [
      [
        u({ sandbox: { protectHome: 'false' } }),
        "spec.units[0].sandbox.protectHome: must be 'read-only' or stricter, not 'false' in namespace NS (SystemdWorkloadPolicy P)",
      ],
    ],
  },
  {
    rule: 'resources.maxMemory (a ceiling makes the limit required)',
    policy: { resources: { maxMemory: '256Mi' } },
    allowed: [u({ resources: { limits: { memory: '128Mi' } } }), u({ resources: { limits: { memory: 268435456 } } })],
    refused: [
      [
        u({ resources: { limits: { memory: '1Gi' } } }),
        'spec.units[0].resources.limits.memory: 1Gi exceeds the maximum 256Mi in namespace NS (SystemdWorkloadPolicy P)',
      ],
      [
        u({ resources: { limits: { memory: 268435457 } } }),
        'spec.units[0].resources.limits.memory: 268435457 exceeds the maximum 256Mi in namespace NS (SystemdWorkloadPolicy P)',
      ],
      [u(), 'spec.units[0].resources.limits.memory: is required in namespace NS (SystemdWorkloadPolicy P)'],
    ],
  },
  {
    rule: 'resources.maxCpu',
    policy: { resources: { maxCpu: '500m' } },
    allowed: [u({ resources: { limits: { cpu: '250m' } } }), u({ resources: { limits: { cpu: '0.5' } } })],
    refused: [
      [
        u({ resources: { limits: { cpu: 2 } } }),
        'spec.units[0].resources.limits.cpu: 2 exceeds the maximum 500m in namespace NS (SystemdWorkloadPolicy P)',
      ],
      [u(), 'spec.units[0].resources.limits.cpu: is required in namespace NS (SystemdWorkloadPolicy P)'],
    ],
  },
  {
    rule: 'resources.maxTasks',
    policy: { resources: { maxTasks: 100 } },
    allowed: [u({ resources: { limits: { tasks: 100 } } })],
    refused: [
      [
        u({ resources: { limits: { tasks: 101 } } }),
        'spec.units[0].resources.limits.tasks: 101 exceeds the maximum 100 in namespace NS (SystemdWorkloadPolicy P)',
      ],
      [u(), 'spec.units[0].resources.limits.tasks: is required in namespace NS (SystemdWorkloadPolicy P)'],
    ],
  },
  {
    rule: 'resources.requireLimits',
    policy: { resources: { requireLimits: true } },
    allowed: [u({ resources: { limits: { memory: '64Mi', cpu: 1, tasks: 10 } } })],
    refused: [
      [
        u({ resources: { limits: { cpu: 1, tasks: 10 } } }),
        'spec.units[0].resources.limits.memory: is required in namespace NS (SystemdWorkloadPolicy P)',
      ],
      [
        {
          units: [
            unit({ name: 'a', resources: { limits: { memory: '64Mi', cpu: 1, tasks: 10 } } }),
            unit({ name: 'b', resources: { limits: { memory: '64Mi', tasks: 10 } } }),
          ],
        },
        'spec.units[1].resources.limits.cpu: is required in namespace NS (SystemdWorkloadPolicy P)',
      ],
    ],
  },
];
