// Children built with the real renderer, so the tests see the files the agent sees.
import type { SystemdUnitSet, SystemdWorkload, UnitSpec } from '../../../src/api/types.js';
import { render } from '../../../src/render/unit.js';

export function child(
  name: string,
  units: UnitSpec[],
  opts: { node?: string; namespace?: string; generation?: number } = {},
): SystemdUnitSet {
  const wl: SystemdWorkload = {
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: opts.namespace ?? 'default' },
    spec: { units },
  };
  return {
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdUnitSet',
    metadata: { name: `${name}-${opts.node ?? 'n1'}`, namespace: opts.namespace ?? 'default', generation: opts.generation ?? 1 },
    spec: render(wl, opts.node ?? 'n1'),
  };
}

export const svc = (name: string, extra: Partial<UnitSpec> = {}): UnitSpec => ({ name, command: ['/bin/sleep', 'infinity'], ...extra });
