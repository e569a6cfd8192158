// src/controller/policy.ts: a table per rule (kept, broken, with the message
// admission gives), and which policies apply to a workload.
import type { SystemdWorkload, SystemdWorkloadPolicy, SystemdWorkloadPolicySpec, UnitSpec } from '../../../src/api/types.js';
import {
  evaluatePolicies,
  evaluatePolicy,
  executableAllowed,
  formatPolicyIssues,
  policiesCovering,
  runsAsRootUser,
} from '../../../src/controller/policy.js';

const NS = 'team-a';
const unit = (x: Partial<UnitSpec> = {}): UnitSpec => ({ name: 'main', command: ['/bin/sleep', 'infinity'], dynamicUser: true, ...x });
const wl = (units: UnitSpec[], extra: Partial<SystemdWorkload['spec']> = {}, ns = NS): SystemdWorkload => ({
  apiVersion: 'systemd.operators.dev/v1alpha1',
  kind: 'SystemdWorkload',
  metadata: { name: 'w', namespace: ns },
  spec: { units, ...extra },
});
const policy = (spec: Omit<SystemdWorkloadPolicySpec, 'namespaces'>, name = 'p', namespaces = [NS]): SystemdWorkloadPolicy => ({
  apiVersion: 'systemd.operators.dev/v1alpha1',
  kind: 'SystemdWorkloadPolicy',
  metadata: { name },
  spec: { namespaces, ...spec },
});
const at = ' in namespace team-a (SystemdWorkloadPolicy p';

type Row = [string, SystemdWorkload, string | undefined];

function table(spec: Omit<SystemdWorkloadPolicySpec, 'namespaces'>, rows: Row[]): void {
  it.each(rows)('%s', (_name, w, expected) => {
    const text = formatPolicyIssues(evaluatePolicy(w, policy(spec)));
    if (expected === undefined) expect(text).toBe('');
    else expect(text).toBe(expected);
  });
}

describe('root (allowRoot false by default)', () => {
  table({}, [
    ['dynamicUser: allowed', wl([unit()]), undefined],
    ['a named user: allowed', wl([unit({ dynamicUser: undefined, user: 'nobody' })]), undefined],
    ['no user, no dynamicUser: root', wl([unit({ dynamicUser: undefined })]), `spec.units[0].user: root is not allowed${at})`],
    ['dynamicUser false: root', wl([unit({ dynamicUser: false })]), `spec.units[0].user: root is not allowed${at})`],
    ['user root', wl([unit({ dynamicUser: undefined, user: 'root' })]), `spec.units[0].user: root is not allowed${at})`],
    ['user 0', wl([unit({ dynamicUser: undefined, user: '0' })]), `spec.units[0].user: root is not allowed${at})`],
    ['user 00', wl([unit({ dynamicUser: undefined, user: '00' })]), `spec.units[0].user: root is not allowed${at})`],
    ['user 10 is not root', wl([unit({ dynamicUser: undefined, user: '10' })]), undefined],
    [
      'the first root unit is named',
      wl([unit({ name: 'a' }), unit({ name: 'b', dynamicUser: undefined }), unit({ name: 'c', dynamicUser: undefined })]),
      `spec.units[1].user: root is not allowed${at})`,
    ],
    ['group root', wl([unit({ group: 'root' })]), `spec.units[0].group: root is not allowed${at})`],
    [
      'group 0 and user root: both',
      wl([unit({ dynamicUser: undefined, user: 'root', group: '0' })]),
      `spec.units[0].user: root is not allowed${at}); spec.units[0].group: root is not allowed${at})`,
    ],
  ]);
  describe('allowRoot true', () => {
    table({ allowRoot: true }, [
      ['no user', wl([unit({ dynamicUser: undefined })]), undefined],
      ['user root, group root', wl([unit({ dynamicUser: undefined, user: 'root', group: 'root' })]), undefined],
    ]);
  });
});

describe('allowedUsers', () => {
  table({ allowedUsers: ['svc', 'nobody'] }, [
    ['a listed user', wl([unit({ dynamicUser: undefined, user: 'svc' })]), undefined],
    ['dynamicUser is always allowed', wl([unit()]), undefined],
    [
      'an unlisted user',
      wl([unit({ dynamicUser: undefined, user: 'bob' })]),
      `spec.units[0].user: user 'bob' is not allowed${at} allows: svc, nobody, dynamicUser)`,
    ],
    [
      'root is judged by allowRoot, not the list',
      wl([unit({ dynamicUser: undefined, user: 'root' })]),
      `spec.units[0].user: root is not allowed${at})`,
    ],
  ]);
});

describe('allowedExecutables', () => {
  const spec = { allowedExecutables: ['/usr/bin/', '/bin/sleep'] };
  const refused = (cmd: string) => `spec.units[0].command[0]: '${cmd}' is not an allowed executable${at} allows: /usr/bin/, /bin/sleep)`;
  table(spec, [
    ['an exact path', wl([unit()]), undefined],
    ['under a directory prefix', wl([unit({ command: ['/usr/bin/python3', '-V'] })]), undefined],
    ['outside', wl([unit({ command: ['/bin/sh', '-c', 'id'] })]), refused('/bin/sh')],
    ['an exact entry is not a prefix', wl([unit({ command: ['/bin/sleepy'] })]), refused('/bin/sleepy')],
    ['.. out of the prefix', wl([unit({ command: ['/usr/bin/../../tmp/evil'] })]), refused('/usr/bin/../../tmp/evil')],
    ['// in the path', wl([unit({ command: ['/usr/bin//python3'] })]), refused('/usr/bin//python3')],
    [
      'the second unit',
      wl([unit({ name: 'a' }), unit({ name: 'b', command: ['/opt/x'] })]),
      `spec.units[1].command[0]: '/opt/x' is not an allowed executable${at} allows: /usr/bin/, /bin/sleep)`,
    ],
  ]);
  it('executableAllowed', () => {
    expect(executableAllowed('/usr/bin/x', ['/usr/bin/'])).toBe(true);
    expect(executableAllowed('/usr/bin', ['/usr/bin/'])).toBe(false);
    expect(executableAllowed('/usr/bin/./x', ['/usr/bin/'])).toBe(false);
    expect(executableAllowed('/usr/binx', ['/usr/bin'])).toBe(false);
  });
});

describe('allowedNodeSelectors', () => {
  const refused = `spec.nodeSelector: must select nodes by an allowed label${at} allows: role=web|batch, pool)`;
  table({ allowedNodeSelectors: [{ key: 'role', values: ['web', 'batch'] }, { key: 'pool' }] }, [
    ['an allowed label', wl([unit()], { nodeSelector: { role: 'web' } }), undefined],
    ['an allowed label and more (narrower)', wl([unit()], { nodeSelector: { role: 'batch', zone: 'a' } }), undefined],
    ['a key with any value', wl([unit()], { nodeSelector: { pool: 'anything' } }), undefined],
    ['no selector: every node', wl([unit()]), refused],
    ['an empty selector', wl([unit()], { nodeSelector: {} }), refused],
    ['a value not allowed', wl([unit()], { nodeSelector: { role: 'db' } }), refused],
    ['only other labels', wl([unit()], { nodeSelector: { zone: 'a' } }), refused],
  ]);
});

describe('requiredSandbox', () => {
  describe('noNewPrivileges and privateTmp', () => {
    table({ requiredSandbox: { noNewPrivileges: true, privateTmp: true } }, [
      ['both set', wl([unit({ sandbox: { noNewPrivileges: true, privateTmp: true } })]), undefined],
      [
        'neither',
        wl([unit()]),
        `spec.units[0].sandbox.noNewPrivileges: must be true${at}); spec.units[0].sandbox.privateTmp: must be true${at})`,
      ],
      [
        'noNewPrivileges false',
        wl([unit({ sandbox: { noNewPrivileges: false, privateTmp: true } })]),
        `spec.units[0].sandbox.noNewPrivileges: must be true${at})`,
      ],
    ]);
  });
  describe('protectSystem full', () => {
    table({ requiredSandbox: { protectSystem: 'full' } }, [
      ['full', wl([unit({ sandbox: { protectSystem: 'full' } })]), undefined],
      ['strict', wl([unit({ sandbox: { protectSystem: 'strict' } })]), undefined],
      [
        'true',
        wl([unit({ sandbox: { protectSystem: 'true' } })]),
        `spec.units[0].sandbox.protectSystem: must be 'full' or stricter, not 'true'${at})`,
      ],
      ['unset', wl([unit()]), `spec.units[0].sandbox.protectSystem: must be 'full' or stricter, not 'false'${at})`],
    ]);
  });
  describe('protectHome read-only', () => {
    table({ requiredSandbox: { protectHome: 'read-only' } }, [
      ['tmpfs', wl([unit({ sandbox: { protectHome: 'tmpfs' } })]), undefined],
      ['true', wl([unit({ sandbox: { protectHome: 'true' } })]), undefined],
      [
        'false',
        wl([unit({ sandbox: { protectHome: 'false' } })]),
        `spec.units[0].sandbox.protectHome: must be 'read-only' or stricter, not 'false'${at})`,
      ],
    ]);
  });
  describe('noNewPrivileges false in a policy requires nothing', () => {
    table({ requiredSandbox: { noNewPrivileges: false } }, [['unset', wl([unit()]), undefined]]);
  });
});

describe('resources', () => {
  describe('maxMemory', () => {
    table({ resources: { maxMemory: '256Mi' } }, [
      ['below', wl([unit({ resources: { limits: { memory: '128Mi' } } })]), undefined],
      ['equal, as bytes', wl([unit({ resources: { limits: { memory: 268435456 } } })]), undefined],
      [
        'one byte over',
        wl([unit({ resources: { limits: { memory: 268435457 } } })]),
        `spec.units[0].resources.limits.memory: 268435457 exceeds the maximum 256Mi${at})`,
      ],
      [
        '1Gi',
        wl([unit({ resources: { limits: { memory: '1Gi' } } })]),
        `spec.units[0].resources.limits.memory: 1Gi exceeds the maximum 256Mi${at})`,
      ],
      [
        '0.3G (decimal) over',
        wl([unit({ resources: { limits: { memory: '0.3G' } } })]),
        `spec.units[0].resources.limits.memory: 0.3G exceeds the maximum 256Mi${at})`,
      ],
      ['missing: required by the ceiling', wl([unit()]), `spec.units[0].resources.limits.memory: is required${at})`],
    ]);
  });
  describe('maxCpu', () => {
    table({ resources: { maxCpu: '500m' } }, [
      ['250m', wl([unit({ resources: { limits: { cpu: '250m' } } })]), undefined],
      ['0.5', wl([unit({ resources: { limits: { cpu: '0.5' } } })]), undefined],
      [
        '2 (a number)',
        wl([unit({ resources: { limits: { cpu: 2 } } })]),
        `spec.units[0].resources.limits.cpu: 2 exceeds the maximum 500m${at})`,
      ],
      ['missing', wl([unit()]), `spec.units[0].resources.limits.cpu: is required${at})`],
    ]);
  });
  describe('maxTasks', () => {
    table({ resources: { maxTasks: 100 } }, [
      ['100', wl([unit({ resources: { limits: { tasks: 100 } } })]), undefined],
      [
        '101',
        wl([unit({ resources: { limits: { tasks: 101 } } })]),
        `spec.units[0].resources.limits.tasks: 101 exceeds the maximum 100${at})`,
      ],
      ['missing', wl([unit()]), `spec.units[0].resources.limits.tasks: is required${at})`],
    ]);
  });
  describe('requireLimits', () => {
    table({ resources: { requireLimits: true } }, [
      ['all three', wl([unit({ resources: { limits: { memory: '1Gi', cpu: 4, tasks: 1000 } } })]), undefined],
      [
        'none',
        wl([unit()]),
        [
          `spec.units[0].resources.limits.memory: is required${at})`,
          `spec.units[0].resources.limits.cpu: is required${at})`,
          `spec.units[0].resources.limits.tasks: is required${at})`,
        ].join('; '),
      ],
      [
        'the second unit lacks cpu',
        wl([
          unit({ name: 'a', resources: { limits: { memory: '1Gi', cpu: 4, tasks: 1 } } }),
          unit({ name: 'b', resources: { limits: { memory: '1Gi', tasks: 1 } } }),
        ]),
        `spec.units[1].resources.limits.cpu: is required${at})`,
      ],
    ]);
  });
});

describe('which policies apply', () => {
  const strict = policy({ allowedExecutables: ['/opt/'] }, 'b-exec');
  const sandbox = policy({ requiredSandbox: { privateTmp: true } }, 'a-sandbox');
  const other = policy({ allowedExecutables: ['/nowhere/'] }, 'other', ['team-b']);

  it('only the policies listing the namespace, in name order', () => {
    expect(policiesCovering(NS, [strict, other, sandbox]).map((p) => p.metadata.name)).toEqual(['a-sandbox', 'b-exec']);
    expect(policiesCovering('team-c', [strict, other, sandbox])).toEqual([]);
  });

  it('every covering policy must be satisfied; issues name their policy', () => {
    const issues = evaluatePolicies(wl([unit()]), [strict, other, sandbox]);
    expect(issues.map((i) => [i.policy, i.field])).toEqual([
      ['a-sandbox', 'spec.units[0].sandbox.privateTmp'],
      ['b-exec', 'spec.units[0].command[0]'],
    ]);
    expect(evaluatePolicies(wl([unit({ command: ['/opt/x'], sandbox: { privateTmp: true } })]), [strict, other, sandbox])).toEqual([]);
  });

  it("no policy for the namespace: nothing to say (the root default is admission's)", () => {
    expect(evaluatePolicies(wl([unit({ dynamicUser: undefined })], {}, 'free'), [strict, other])).toEqual([]);
  });

  it('runsAsRootUser', () => {
    expect(runsAsRootUser(unit())).toBe(false);
    expect(runsAsRootUser(unit({ dynamicUser: undefined }))).toBe(true);
    expect(runsAsRootUser(unit({ dynamicUser: undefined, user: 'rooty' }))).toBe(false);
  });
});
