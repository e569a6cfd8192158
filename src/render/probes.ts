// What a unit's probes put into its child spec: the probes with their defaults
// written out, and, for an exec probe, who it runs as. Not unit-file content:
// systemd has no probes; the agent runs them (src/agent/probes.ts).
import type { SystemdUnitSetSpec, UnitSpec } from '../api/types.js';
import { probeWithDefaults } from '../api/defaults.js';
import { dynamicUserName } from './dynamicUser.js';

type ChildProbes = Pick<SystemdUnitSetSpec['units'][number], 'readinessProbe' | 'livenessProbe' | 'runAs'>;

/** serviceFile: the unit's .service file name, whose dynamic user an exec probe shares. */
export function unitProbes(u: UnitSpec, serviceFile: string): ChildProbes {
  const out: ChildProbes = {};
  if (u.readinessProbe) out.readinessProbe = probeWithDefaults(u.readinessProbe);
  if (u.livenessProbe) out.livenessProbe = probeWithDefaults(u.livenessProbe);
  if (u.readinessProbe?.exec || u.livenessProbe?.exec) {
    const runAs: NonNullable<ChildProbes['runAs']> = {};
    if (u.user !== undefined) runAs.user = u.user;
    if (u.group !== undefined) runAs.group = u.group;
    if (u.dynamicUser) {
      // The unit's own dynamic user by its name: DynamicUser=yes alone would give the probe's transient unit a user of its own.
      runAs.dynamicUser = true;
      runAs.user = dynamicUserName(serviceFile);
    }
    out.runAs = runAs;
  }
  return out;
}
