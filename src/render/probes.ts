// What a unit's probes put into its child spec: the probes with their defaults
// written out, and, for an exec probe, who it runs as. Not unit-file content:
// systemd has no probes; the agent runs them (src/agent/probes.ts).
import type { SystemdUnitSetSpec, UnitSpec } from '../api/types.js';
import { probeWithDefaults } from '../api/defaults.js';

type ChildProbes = Pick<SystemdUnitSetSpec['units'][number], 'readinessProbe' | 'livenessProbe' | 'runAs'>;

export function unitProbes(u: UnitSpec): ChildProbes {
  const out: ChildProbes = {};
  if (u.readinessProbe) out.readinessProbe = probeWithDefaults(u.readinessProbe);
  if (u.livenessProbe) out.livenessProbe = probeWithDefaults(u.livenessProbe);
  if (u.readinessProbe?.exec || u.livenessProbe?.exec) {
    const runAs: NonNullable<ChildProbes['runAs']> = {};
    if (u.user !== undefined) runAs.user = u.user;
    if (u.group !== undefined) runAs.group = u.group;
    if (u.dynamicUser) runAs.dynamicUser = true;
    out.runAs = runAs;
  }
  return out;
}
