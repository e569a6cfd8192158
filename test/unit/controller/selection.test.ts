import { nodeMatches, tolerates, type NodeInfo } from '../../../src/controller/selection.js';
import type { Toleration } from '../../../src/api/types.js';

const node = (labels: Record<string, string> = {}, taints: NodeInfo['taints'] = []): NodeInfo => ({ name: 'n', labels, taints });

describe('tolerates', () => {
  const taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
  it.each<[string, Toleration, boolean]>([
    ['Equal with the same value', { key: 'dedicated', operator: 'Equal', value: 'db' }, true],
    ['operator defaults to Equal', { key: 'dedicated', value: 'db' }, true],
    ['Equal with another value', { key: 'dedicated', operator: 'Equal', value: 'web' }, false],
    ['Equal without a value against a valued taint', { key: 'dedicated', operator: 'Equal' }, false],
    ['Exists on the key', { key: 'dedicated', operator: 'Exists' }, true],
    ['Exists on another key', { key: 'other', operator: 'Exists' }, false],
    ['empty key + Exists tolerates everything', { operator: 'Exists' }, true],
    ['empty key + Exists + matching effect', { operator: 'Exists', effect: 'NoSchedule' }, true],
    ['empty key + Exists + other effect', { operator: 'Exists', effect: 'NoExecute' }, false],
    ['empty key without Exists tolerates nothing', { value: 'db' }, false],
    ['effect must match when given', { key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, false],
    ['empty effect matches any effect', { key: 'dedicated', operator: 'Exists', effect: '' }, true],
  ])('%s', (_n, t, want) => {
    expect(tolerates(t, taint)).toBe(want);
  });
});

describe('nodeMatches', () => {
  it.each<[string, Parameters<typeof nodeMatches>[0], NodeInfo, boolean]>([
    ['no selector matches every node', {}, node({ a: '1' }), true],
    ['selector matches', { nodeSelector: { role: 'web' } }, node({ role: 'web', x: 'y' }), true],
    ['selector value differs', { nodeSelector: { role: 'web' } }, node({ role: 'db' }), false],
    ['selector label missing', { nodeSelector: { role: 'web' } }, node({}), false],
    ['every selector entry must match', { nodeSelector: { role: 'web', zone: 'a' } }, node({ role: 'web', zone: 'b' }), false],
    ['an untolerated NoSchedule taint excludes', {}, node({}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]), false],
    ['an untolerated NoExecute taint excludes', {}, node({}, [{ key: 'k', effect: 'NoExecute' }]), false],
    ['PreferNoSchedule never excludes', {}, node({}, [{ key: 'k', effect: 'PreferNoSchedule' }]), true],
    [
      'a tolerated taint',
      { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] },
      node({}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]),
      true,
    ],
    [
      'every taint must be tolerated',
      { tolerations: [{ key: 'a', operator: 'Exists' }] },
      node({}, [
        { key: 'a', effect: 'NoSchedule' },
        { key: 'b', effect: 'NoSchedule' },
      ]),
      false,
    ],
    ['unreachable:NoExecute is tolerated implicitly', {}, node({}, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }]), true],
    ['not-ready:NoExecute is tolerated implicitly', {}, node({}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]), true],
    ['not-ready:NoSchedule is tolerated implicitly', {}, node({}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]), true],
    [
      'unschedulable (cordon) is tolerated implicitly',
      {},
      node({}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]),
      true,
    ],
    ['disk-pressure is tolerated implicitly', {}, node({}, [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }]), true],
    ['a lookalike of a condition taint is not', {}, node({}, [{ key: 'example.com/unreachable', effect: 'NoExecute' }]), false],
  ])('%s', (_n, spec, n, want) => {
    expect(nodeMatches(spec, n)).toBe(want);
  });
});
