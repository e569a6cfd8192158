import { findAfterCycle, validateWorkload } from '../../../src/api/validate.js';

const unit = (x: Record<string, unknown> = {}) => ({ name: 'a', command: ['/bin/true'], ...x });
const wl = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'systemd.operators.dev/v1alpha1',
  kind: 'SystemdWorkload',
  metadata: { name: 'web', namespace: 'default', ...meta },
  spec,
});

describe('validateWorkload', () => {
  it('accepts a full valid workload', () => {
    expect(
      validateWorkload(
        wl({
          nodeSelector: { role: 'storage' },
          tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
          units: [
            unit({ name: 'migrate', type: 'oneshot', dynamicUser: true }),
            unit({
              env: [{ name: 'A', value: 'x' }],
              user: 'nobody',
              group: '65534',
              workingDirectory: '/var/lib/a',
              restart: { policy: 'Always', delaySeconds: 2 },
              resources: { limits: { memory: '256Mi', cpu: 1, tasks: 10 }, requests: { cpu: '250m' } },
              after: ['migrate'],
              requires: ['migrate'],
              sandbox: {
                privateTmp: true,
                protectSystem: 'strict',
                protectHome: 'tmpfs',
                noNewPrivileges: true,
                readOnlyPaths: ['/etc'],
                readWritePaths: ['/var/lib/a/'],
              },
            }),
            unit({ name: 'job', type: 'oneshot', schedule: '0 3 * * *', timeZone: 'Europe/Berlin' }),
          ],
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } },
          minReadySeconds: 10,
          paused: false,
        }),
      ),
    ).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, string | RegExp]>([
    ['no units', {}, 'spec.units', 'is required'],
    ['empty units', { units: [] }, 'spec.units', 'must have at least 1 item'],
    ['33 units', { units: Array.from({ length: 33 }, (_, i) => unit({ name: `u${i}` })) }, 'spec.units', 'must have at most 32 items'],
    ['bad unit name', { units: [unit({ name: 'A_b' })] }, 'spec.units[0].name', /lowercase DNS label/],
    ['long unit name', { units: [unit({ name: 'a'.repeat(41) })] }, 'spec.units[0].name', 'must be at most 40 characters'],
    ['duplicate unit', { units: [unit(), unit()] }, 'spec.units[1].name', "duplicate value 'a'"],
    ['bad type', { units: [unit({ type: 'forking' })] }, 'spec.units[0].type', 'must be one of "service", "notify", "oneshot"'],
    ['empty command', { units: [unit({ command: [] })] }, 'spec.units[0].command', 'must have at least 1 item'],
    ['relative command', { units: [unit({ command: ['true'] })] }, 'spec.units[0].command[0]', /must be an absolute path/],
    [
      'newline in arg',
      { units: [unit({ command: ['/bin/x', 'a\nb'] })] },
      'spec.units[0].command[1]',
      'must not contain control characters or newlines',
    ],
    ['C1 control in env', { units: [unit({ env: [{ name: 'A', value: '\u0085' }] })] }, 'spec.units[0].env[0].value', /control characters/],
    ['bad env name', { units: [unit({ env: [{ name: 'A-B', value: '' }] })] }, 'spec.units[0].env[0].name', /C identifier/],
    [
      'duplicate env',
      {
        units: [
          unit({
            env: [
              { name: 'A', value: '' },
              { name: 'A', value: '' },
            ],
          }),
        ],
      },
      'spec.units[0].env[1].name',
      "duplicate value 'A'",
    ],
    ['bad user', { units: [unit({ user: 'root;rm' })] }, 'spec.units[0].user', /user\/group name/],
    [
      'user + dynamicUser',
      { units: [unit({ user: 'x', dynamicUser: true })] },
      'spec.units[0].user',
      'must not be set when dynamicUser is true',
    ],
    [
      'relative workingDirectory',
      { units: [unit({ workingDirectory: 'var' })] },
      'spec.units[0].workingDirectory',
      /absolute normalized path/,
    ],
    [
      'dotdot path',
      { units: [unit({ sandbox: { readOnlyPaths: ['/a/../b'] } })] },
      'spec.units[0].sandbox.readOnlyPaths[0]',
      /absolute normalized path/,
    ],
    [
      'oneshot Always',
      { units: [unit({ type: 'oneshot', restart: { policy: 'Always' } })] },
      'spec.units[0].restart.policy',
      /Always is not allowed for type oneshot/,
    ],
    [
      'delay too long',
      { units: [unit({ restart: { delaySeconds: 4000 } })] },
      'spec.units[0].restart.delaySeconds',
      'must be between 0 and 3600',
    ],
    [
      'bad memory',
      { units: [unit({ resources: { limits: { memory: '1 Gi' } } })] },
      'spec.units[0].resources.limits.memory',
      /is not a valid quantity/,
    ],
    ['zero cpu', { units: [unit({ resources: { limits: { cpu: '0' } } })] }, 'spec.units[0].resources.limits.cpu', /greater than 0/],
    [
      'zero tasks',
      { units: [unit({ resources: { limits: { tasks: 0 } } })] },
      'spec.units[0].resources.limits.tasks',
      'must be between 1 and 4194304',
    ],
    ['unknown after', { units: [unit({ after: ['zz'] })] }, 'spec.units[0].after[0]', "unit 'zz' is not in spec.units"],
    ['unknown requires', { units: [unit({ requires: ['zz'] })] }, 'spec.units[0].requires[0]', "unit 'zz' is not in spec.units"],
    ['after self', { units: [unit({ after: ['a'] })] }, 'spec.units[0].after', 'a unit must not list itself'],
    [
      '2-cycle',
      { units: [unit({ after: ['b'] }), unit({ name: 'b', after: ['a'] })] },
      'spec.units[0].after',
      'ordering cycle: a -> b -> a',
    ],
    ['bad schedule', { units: [unit({ schedule: '61 * * * *' })] }, 'spec.units[0].schedule', "minute field '61' out of range 0-59"],
    ['never fires', { units: [unit({ schedule: '0 0 31 4 *' })] }, 'spec.units[0].schedule', /never fires/],
    [
      'timeZone without schedule',
      { units: [unit({ timeZone: 'UTC' })] },
      'spec.units[0].timeZone',
      'is only allowed together with schedule',
    ],
    [
      'unknown time zone',
      { units: [unit({ schedule: '@daily', timeZone: 'Mars/Olympus' })] },
      'spec.units[0].timeZone',
      "unknown time zone 'Mars/Olympus'",
    ],
    ['bad protectSystem', { units: [unit({ sandbox: { protectSystem: true } })] }, 'spec.units[0].sandbox.protectSystem', /must be one of/],
    ['unknown field', { units: [unit({ image: 'x' })] }, 'spec.units[0].image', 'unknown field'],
    [
      'maxUnavailable 0',
      { units: [unit()], updateStrategy: { rollingUpdate: { maxUnavailable: 0 } } },
      'spec.updateStrategy.rollingUpdate.maxUnavailable',
      /integer >= 1 or a percentage/,
    ],
    [
      'maxUnavailable 101%',
      { units: [unit()], updateStrategy: { rollingUpdate: { maxUnavailable: '101%' } } },
      'spec.updateStrategy.rollingUpdate.maxUnavailable',
      /percentage from 1% to 100%/,
    ],
    [
      'toleration Exists with value',
      { units: [unit()], tolerations: [{ operator: 'Exists', value: 'v' }] },
      'spec.tolerations[0].value',
      'must be empty when operator is Exists',
    ],
    ['minReadySeconds negative', { units: [unit()], minReadySeconds: -1 }, 'spec.minReadySeconds', 'must be between 0 and 86400'],
  ])('%s', (_name, spec, field, message) => {
    const issues = validateWorkload(wl(spec));
    const hit = issues.find((i) => i.field === field);
    expect({ issues, hit: hit !== undefined }).toMatchObject({ hit: true });
    if (typeof message === 'string') expect(hit!.message).toContain(message);
    else expect(hit!.message).toMatch(message);
  });

  it('checks metadata and kind', () => {
    expect(validateWorkload(wl({ units: [unit()] }, { name: 'x'.repeat(64) }))).toEqual([
      { field: 'metadata.name', message: expect.stringContaining('at most 63 characters') },
    ]);
    expect(validateWorkload({ ...wl({ units: [unit()] }), kind: 'Pod' })).toEqual([{ field: 'kind', message: 'must be SystemdWorkload' }]);
    expect(validateWorkload(null)).toEqual([{ field: '', message: 'must be a SystemdWorkload object' }]);
    expect(validateWorkload(wl({ units: [unit()] }, { namespace: 'Bad_NS' }))[0]?.field).toBe('metadata.namespace');
  });
});

describe('findAfterCycle', () => {
  it.each<[Array<{ name: string; after?: string[] }>, string[] | undefined]>([
    [[{ name: 'a' }], undefined],
    [[{ name: 'a', after: ['b'] }, { name: 'b' }], undefined],
    [[{ name: 'a', after: ['b', 'c'] }, { name: 'b', after: ['c'] }, { name: 'c' }], undefined],
    [[{ name: 'a', after: ['a'] }], ['a', 'a']],
    [
      [
        { name: 'a', after: ['b'] },
        { name: 'b', after: ['a'] },
      ],
      ['a', 'b', 'a'],
    ],
    [
      [{ name: 'x' }, { name: 'a', after: ['b'] }, { name: 'b', after: ['c'] }, { name: 'c', after: ['d'] }, { name: 'd', after: ['b'] }],
      ['b', 'c', 'd', 'b'],
    ],
  ])('%j -> %j', (units, cycle) => {
    expect(findAfterCycle(units)).toEqual(cycle);
  });
});
