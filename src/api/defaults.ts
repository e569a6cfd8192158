// The API's defaults that both sides need: the renderer writes them into the
// child spec and the unit files, and the agent applies them to a child written
// before the field existed.
import type { RestartPolicy, UnitSpec, UnitType } from './types.js';

/** The restart policy of a unit that names none: services restart, oneshots and scheduled units do not. */
export function defaultRestartPolicy(type: UnitType, scheduled: boolean): RestartPolicy {
  return type === 'service' && !scheduled ? 'Always' : 'Never';
}

/** The restart policy in effect for a unit. */
export function effectiveRestartPolicy(u: UnitSpec): RestartPolicy {
  return u.restart?.policy ?? defaultRestartPolicy(u.type ?? 'service', u.schedule !== undefined);
}

/** The cap of the agent's crash-loop back-off when restart.maxDelaySeconds is unset: 5 minutes, as Kubernetes. */
export const DEFAULT_MAX_RESTART_DELAY_SECONDS = 300;
